// SPDX-License-Identifier: MIT
#pragma once
/// @file sequence.hpp  Per-sample sequence lengths. A batch of sequences shape<T, F> has a
/// compile-time maximum length T; each sample may be shorter (its steps after its length are
/// padding). The lengths of the batch being run reach the layers that care (recurrent layers,
/// `sequence_pool`) through a scope that the model installs for a forward, backward or predict
/// (`ctx.set_lengths(...)`, `model.predict(x, lengths)`), so every layer signature stays the same and
/// every container (chain, residual, graph) passes them on without knowing. A layer run outside any
/// scope, or a model given no lengths, treats every sample as full length.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../backend/buffer.hpp"
#include "../backend/policy.hpp"
#include "../core/error.hpp"

namespace ctnn {

/// The valid lengths of the samples of one batch, in host memory and in the policy's memory (the
/// same pointer on the CPU).
struct sequence_lengths {
    const std::int32_t* host = nullptr;
    const std::int32_t* device = nullptr;
    std::size_t count = 0;
};

namespace detail {
inline thread_local sequence_lengths current_lengths{};
}  // namespace detail

/// While alive, layers run on this thread see @p lengths (the previous scope is restored after).
class lengths_scope {
public:
    explicit lengths_scope(sequence_lengths l) noexcept : m_prev(detail::current_lengths) { detail::current_lengths = l; }
    ~lengths_scope() { detail::current_lengths = m_prev; }
    lengths_scope(const lengths_scope&) = delete;
    lengths_scope& operator=(const lengths_scope&) = delete;

private:
    sequence_lengths m_prev;
};

/// For a layer over @p steps-step sequences: the current batch's lengths in P's memory, or nullptr
/// when none are set. Throws ctnn::error naming @p layer when their count is not @p batch or a length
/// is outside [1, steps].
template <class P>
const std::int32_t* batch_lengths(std::size_t batch, std::size_t steps, std::string_view layer) {
    const sequence_lengths& l = detail::current_lengths;
    if (!l.host) return nullptr;
    if (l.count != batch)
        detail::fail(std::string(layer) + ": " + std::to_string(l.count) + " sequence lengths were given for a batch of " +
                     std::to_string(batch));
    for (std::size_t b = 0; b < batch; ++b)
        if (l.host[b] < 1 || std::size_t(l.host[b]) > steps)
            detail::fail(std::string(layer) + ": sequence length " + std::to_string(l.host[b]) + " of sample " + std::to_string(b) +
                         " is outside [1, " + std::to_string(steps) + "]");
    return std::same_as<P, cpu> ? l.host : l.device;
}

namespace detail {
/// What a model context keeps of `set_lengths`: a host copy and, for the CUDA policy, a device copy.
template <class P>
class lengths_holder {
public:
    /// Lengths of the samples of the next forward/backward on this context (one per sample, each in
    /// [1, T] of every sequence layer; checked by the layers). Kept until `clear_lengths()`.
    void set_lengths(std::span<const std::int32_t> lengths) {
        m_host.assign(lengths.begin(), lengths.end());
        if constexpr (std::same_as<P, cpu>) {
            m_view = {m_host.data(), m_host.data(), m_host.size()};
        } else {
            if (m_device.size() < m_host.size()) m_device.resize(m_host.size());
            copy_from_host<P>(m_device.data(), m_host.data(), m_host.size());
            m_view = {m_host.data(), m_device.data(), m_host.size()};
        }
        m_set = true;
    }
    /// Back to full-length sequences.
    void clear_lengths() noexcept { m_set = false; }
    /// The lengths set, or an empty span.
    std::span<const std::int32_t> lengths() const noexcept {
        return m_set ? std::span<const std::int32_t>(m_host) : std::span<const std::int32_t>{};
    }

protected:
    /// The scope a forward/backward runs in (empty when no lengths are set).
    sequence_lengths lengths_view() const noexcept { return m_set ? m_view : sequence_lengths{}; }

private:
    std::vector<std::int32_t> m_host;
    buffer_t<P, std::int32_t> m_device;
    sequence_lengths m_view;
    bool m_set = false;
};

/// The lengths for a predict call: @p lengths on the host, copied to a per-thread device buffer for
/// the CUDA policy. An empty span means full length.
template <class P>
sequence_lengths predict_lengths(std::span<const std::int32_t> lengths) {
    if (lengths.empty()) return {};
    if constexpr (std::same_as<P, cpu>) {
        return {lengths.data(), lengths.data(), lengths.size()};
    } else {
        thread_local buffer_t<P, std::int32_t> device;
        if (device.size() < lengths.size()) device.resize(lengths.size());
        copy_from_host<P>(device.data(), lengths.data(), lengths.size());
        return {lengths.data(), device.data(), lengths.size()};
    }
}
}  // namespace detail

}  // namespace ctnn
