// SPDX-License-Identifier: MIT
#pragma once
/// @file device_buffer.hpp  A typed, owning buffer in GPU memory (cudaMalloc), the CUDA policy's
/// counterpart of aligned_buffer: zeroed on allocation, copyable (device-to-device), movable.
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "../policy.hpp"
#include "api.hpp"

namespace ctnn::backend::cuda {

template <class T>
class device_buffer {
    static_assert(std::is_trivially_copyable_v<T>, "ctnn::device_buffer: holds trivially copyable values only");
    static_assert(cuda_built || ctnn::detail::cuda_not_linked<T>,
                  "ctnn::cuda: this program uses the CUDA execution policy; link it with the ctnn::cuda CMake target "
                  "(target_link_libraries(app PRIVATE ctnn::cuda)), available when ctnn is built with CUDA");

public:
    device_buffer() = default;
    explicit device_buffer(std::size_t n) { resize(n); }
    device_buffer(const device_buffer& o) : device_buffer(o.m_size) {
        cuda_api::copy_on_device(m_data, o.m_data, m_size * sizeof(T));
    }
    device_buffer& operator=(const device_buffer& o) {
        if (this != &o) {
            device_buffer t(o);
            swap(t);
        }
        return *this;
    }
    device_buffer(device_buffer&& o) noexcept { swap(o); }
    device_buffer& operator=(device_buffer&& o) noexcept {
        swap(o);
        return *this;
    }
    ~device_buffer() { cuda_api::device_free(m_data); }

    /// Reallocates to @p n zeroed elements (contents are discarded).
    void resize(std::size_t n) {
        if (n != m_size) {
            if (n > std::size_t(-1) / sizeof(T) / 2) ctnn::detail::fail("device_buffer: requested size is absurd");
            cuda_api::device_free(m_data);
            m_data = nullptr;
            m_size = 0;
            m_data = static_cast<T*>(cuda_api::device_malloc(n * sizeof(T)));
            m_size = n;
        }
        cuda_api::zero(m_data, m_size * sizeof(T));
    }
    /// Sets every element to @p v (queued on ctnn's stream).
    void fill(T v) {
        if (v == T(0)) cuda_api::zero(m_data, m_size * sizeof(T));
        else cuda_api::fill(m_data, v, m_size);
    }
    T* data() noexcept { return m_data; }
    const T* data() const noexcept { return m_data; }
    std::size_t size() const noexcept { return m_size; }
    void swap(device_buffer& o) noexcept {
        std::swap(m_data, o.m_data);
        std::swap(m_size, o.m_size);
    }

private:
    T* m_data = nullptr;
    std::size_t m_size = 0;
};

/// Page-locked host memory of n elements (staging for asynchronous copies). Move-only.
template <class T>
class pinned_buffer {
public:
    pinned_buffer() = default;
    explicit pinned_buffer(std::size_t n) : m_data(static_cast<T*>(cuda_api::pinned_malloc(n * sizeof(T)))), m_size(n) {}
    pinned_buffer(pinned_buffer&& o) noexcept { swap(o); }
    pinned_buffer& operator=(pinned_buffer&& o) noexcept {
        swap(o);
        return *this;
    }
    ~pinned_buffer() { cuda_api::pinned_free(m_data); }
    T* data() noexcept { return m_data; }
    std::size_t size() const noexcept { return m_size; }
    void swap(pinned_buffer& o) noexcept {
        std::swap(m_data, o.m_data);
        std::swap(m_size, o.m_size);
    }

private:
    T* m_data = nullptr;
    std::size_t m_size = 0;
};

/// Host-to-device uploads through two alternating pinned staging buffers: the copy is asynchronous
/// (it overlaps the GPU work queued before it), and a staging buffer is refilled only after the copy
/// that last used it has finished (an event wait that blocks only when the host is two uploads ahead).
template <class T>
class uploader {
public:
    uploader() = default;
    explicit uploader(std::size_t capacity) {
        for (int i = 0; i < 2; ++i) {
            m_stage[i] = pinned_buffer<T>(capacity);
            m_event[i] = cuda_api::event_create();
        }
    }
    uploader(uploader&& o) noexcept { swap(o); }
    uploader& operator=(uploader&& o) noexcept {
        swap(o);
        return *this;
    }
    ~uploader() {
        for (void* e : m_event) cuda_api::event_destroy(e);
    }
    /// Queues d_dst[0, n) = src[0, n); @p src may be reused as soon as this returns.
    void upload(T* d_dst, const T* src, std::size_t n) {
        if (n > m_stage[0].size()) ctnn::detail::fail("cuda uploader: " + std::to_string(n) + " values exceed the reserved " +
                                                      std::to_string(m_stage[0].size()));
        cuda_api::event_wait(m_event[m_next]);
        std::memcpy(m_stage[m_next].data(), src, n * sizeof(T));
        cuda_api::copy_to_device_async(d_dst, m_stage[m_next].data(), n * sizeof(T));
        cuda_api::event_record(m_event[m_next]);
        m_next ^= 1;
    }
    void swap(uploader& o) noexcept {
        for (int i = 0; i < 2; ++i) {
            m_stage[i].swap(o.m_stage[i]);
            std::swap(m_event[i], o.m_event[i]);
        }
        std::swap(m_next, o.m_next);
    }

private:
    pinned_buffer<T> m_stage[2];
    void* m_event[2] = {nullptr, nullptr};
    int m_next = 0;
};

}  // namespace ctnn::backend::cuda

namespace ctnn {
/// A view of `rows` samples in GPU memory (what a CUDA model's forward returns): `data()` is a device
/// pointer; `to_host()` copies the values out (waiting for the GPU).
template <class T>
struct device_view {
    T* ptr = nullptr;
    std::size_t count = 0;
    std::size_t rows = 0;
    T* data() const noexcept { return ptr; }
    std::size_t size() const noexcept { return count; }
    std::vector<std::remove_const_t<T>> to_host() const {
        std::vector<std::remove_const_t<T>> v(count);
        cuda_api::copy_to_host(v.data(), ptr, count * sizeof(T));
        return v;
    }
};
}  // namespace ctnn
