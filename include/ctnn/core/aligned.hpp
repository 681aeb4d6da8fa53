// SPDX-License-Identifier: MIT
#pragma once
/// @file aligned.hpp  The one helper for aligned heap storage.
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>

#include "error.hpp"

namespace ctnn {

/// Alignment of every ctnn-owned buffer: a cache line, enough for AVX-512 loads.
inline constexpr std::size_t buffer_alignment = 64;

/// A fixed-size, 64-byte-aligned, zero-initialised heap array of trivially copyable `T`.
/// Move-only; the size is set once (or by `resize`, which discards contents).
template <class T>
class aligned_buffer {
    static_assert(std::is_trivially_copyable_v<T>, "ctnn::aligned_buffer: holds trivially copyable values only");
    struct deleter {
        void operator()(T* p) const noexcept { ::operator delete(p, std::align_val_t{buffer_alignment}); }
    };

public:
    aligned_buffer() = default;
    explicit aligned_buffer(std::size_t n) { resize(n); }
    aligned_buffer(const aligned_buffer& o) : aligned_buffer(o.m_size) {
        if (m_size) std::memcpy(m_data.get(), o.m_data.get(), m_size * sizeof(T));
    }
    aligned_buffer& operator=(const aligned_buffer& o) {
        if (this != &o) {
            aligned_buffer t(o);
            *this = std::move(t);
        }
        return *this;
    }
    aligned_buffer(aligned_buffer&&) noexcept = default;
    aligned_buffer& operator=(aligned_buffer&&) noexcept = default;

    /// Reallocates to @p n zeroed elements (contents are discarded).
    void resize(std::size_t n) {
        if (n == m_size) {
            fill(T{});
            return;
        }
        m_data.reset();
        m_size = 0;
        if (n == 0) return;
        if (n > std::size_t(-1) / sizeof(T) / 2) detail::fail("aligned_buffer: requested size is absurd");
        const std::size_t bytes = (n * sizeof(T) + buffer_alignment - 1) / buffer_alignment * buffer_alignment;
        m_data.reset(static_cast<T*>(::operator new(bytes, std::align_val_t{buffer_alignment})));
        m_size = n;
        fill(T{});
    }
    void fill(T v) noexcept {
        for (std::size_t i = 0; i < m_size; ++i) m_data[i] = v;
    }
    T* data() noexcept { return m_data.get(); }
    const T* data() const noexcept { return m_data.get(); }
    std::size_t size() const noexcept { return m_size; }
    T& operator[](std::size_t i) noexcept { return m_data[i]; }
    const T& operator[](std::size_t i) const noexcept { return m_data[i]; }
    T* begin() noexcept { return data(); }
    T* end() noexcept { return data() + m_size; }
    const T* begin() const noexcept { return data(); }
    const T* end() const noexcept { return data() + m_size; }

private:
    std::unique_ptr<T[], deleter> m_data;
    std::size_t m_size = 0;
};

}  // namespace ctnn
