// SPDX-License-Identifier: MIT
#pragma once
/// @file concepts.hpp  What a loss declares, so that `train_step` and `fit` (and any training loop)
/// use every loss alike on every policy — no list of known losses anywhere.
///
/// A *loss* `L` (concept `loss::loss_function<L, T, P>`) of a model output y [batch, per_sample]:
///
/// | member | meaning |
/// |---|---|
/// | `static constexpr const char* name` | used in every error message (`"mse: ..."`) |
/// | `using target_kind = loss::label_target` or `loss::value_target` | integer class labels (one per sample, or per row for `cross_entropy{classes}`; `std::int32_t` on the GPU) or values of the model's type |
/// | `std::size_t target_elements(batch, per_sample) const` | how many target elements a batch needs |
/// | `void check_target(const Tg* t, std::size_t n, batch, per_sample) const` | host-side: n == target_elements(...) and the values are valid (labels in range); throws ctnn::error naming the loss and what was expected |
/// | `template <class P, class T, class Tg> void evaluate(const T* y, const Tg* t, T* dy, batch, per_sample, T* loss_out) const` | all pointers in P's memory: writes dL/dy into dy and the loss into the scalar *loss_out, without waiting; calls `ops::*<P>` only |
/// | optional `static constexpr double decision_threshold` | where a single-output model's class flips for `fit`'s training accuracy (0 when absent: logits) |
///
/// The reduction is PyTorch's default, `mean`, unless the loss documents otherwise. `evaluate` assumes
/// a checked target (the callers run `check_target` first, once, on the host).
///
/// `loss::base<L>` (CRTP) supplies `target_elements`, the size part of `check_target`, and the CPU call
/// form `loss(y, target, dy)` → the loss (implemented once, on `evaluate<cpu>`), so a loss writes
/// `name`, `target_kind` and `evaluate` — see `loss::mse` or the weighted MSE in tests/unit/nn/loss_test.cpp.
///
/// A *pair loss* (concept `loss::pair_loss_function`: gaussian_kl, cosine_embedding, margin_ranking)
/// reads two model outputs a, b [batch, per_sample] and writes both gradients:
/// `evaluate<P>(a, b, t, da, db, batch, per_sample, loss_out)`; its `target_kind` may be
/// `loss::no_target` (t is then ignored and may be null; target_elements is 0). Its CPU form is
/// `loss(a, b, target, da, db, batch)`. Pair losses are not used by `fit`/`train_step` (single output).
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "../backend/policy.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace ctnn::loss {

/// Target tag: integer class labels, one per sample or per row of classes (`target_elements` says how
/// many; std::int32_t on the GPU; any integer type on the CPU).
struct label_target {};
/// Target tag: values of the model's type.
struct value_target {};
/// Target tag: the loss reads no target (e.g. gaussian_kl).
struct no_target {};

/// True for the three target tags.
template <class K>
inline constexpr bool is_target_kind_v =
    std::same_as<K, label_target> || std::same_as<K, value_target> || std::same_as<K, no_target>;

/// Whether loss L takes integer labels.
template <class L>
inline constexpr bool takes_labels_v = std::same_as<typename L::target_kind, label_target>;

/// The element type of L's target for a model of type T: std::int32_t for labels, else T.
template <class L, class T>
using target_type_t = std::conditional_t<takes_labels_v<L>, std::int32_t, T>;

/// L's decision threshold for single-output training accuracy (0 — logits — when L declares none).
template <class L>
constexpr double decision_threshold_v() {
    if constexpr (requires { L::decision_threshold; }) return double(L::decision_threshold);
    else return 0.0;
}

/// A loss of one model output, usable by train_step and fit on policy P with model type T.
template <class L, class T = float, class P = cpu>
concept loss_function = requires(const L& l, const T* y, const target_type_t<L, T>* t, T* dy, std::size_t n, T* out) {
    { L::name } -> std::convertible_to<const char*>;
    typename L::target_kind;
    requires is_target_kind_v<typename L::target_kind> && !std::same_as<typename L::target_kind, no_target>;
    { l.target_elements(n, n) } -> std::convertible_to<std::size_t>;
    l.check_target(t, n, n, n);
    l.template evaluate<P>(y, t, dy, n, n, out);
};

/// A loss of two model outputs a and b that writes both gradients (see the file comment).
template <class L, class T = float, class P = cpu>
concept pair_loss_function =
    requires(const L& l, const T* a, const T* b, const target_type_t<L, T>* t, T* da, std::size_t n, T* out) {
        { L::name } -> std::convertible_to<const char*>;
        typename L::target_kind;
        requires is_target_kind_v<typename L::target_kind>;
        { l.target_elements(n, n) } -> std::convertible_to<std::size_t>;
        l.check_target(t, n, n, n);
        l.template evaluate<P>(a, b, t, da, da, n, n, out);
    };

namespace detail {
template <class X>
using value_of_t = std::remove_cvref_t<decltype(*std::declval<const X&>().data())>;

/// Throws "<loss>: the target has n elements, expected m (batch × per_sample ...)" when n != m.
inline void check_target_size(const char* loss, std::size_t n, std::size_t expected, std::size_t batch, std::size_t per_sample,
                              const char* what) {
    if (n != expected) [[unlikely]]
        ctnn::detail::fail(std::string(loss) + ": the target has " + std::to_string(n) + " elements, expected " +
                           std::to_string(expected) + " (" + what + " for a batch of " + std::to_string(batch) + " × " +
                           std::to_string(per_sample) + ")");
}
/// Throws unless every one of the n targets is exactly 1 or -1.
template <class Tg>
void check_plus_minus_one(const char* loss, const Tg* t, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (!(t[i] == Tg(1) || t[i] == Tg(-1))) [[unlikely]]
            ctnn::detail::fail(std::string(loss) + ": target " + std::to_string(double(t[i])) + " at index " +
                               std::to_string(i) + " is not 1 or -1");
}
inline void check_gradient_size(const char* loss, std::size_t g, std::size_t y, const char* which = "gradient buffer") {
    if (g != y) [[unlikely]]
        ctnn::detail::fail(std::string(loss) + ": " + which + " has " + std::to_string(g) + " elements, expected " +
                           std::to_string(y));
}
}  // namespace detail

/// Checks a batch for loss @p l on the host: the prediction holds batch × per_sample values, the target
/// the loss's count and valid values. What train_step calls before evaluate.
template <class L, class Tg>
void check_batch(const L& l, std::size_t y_size, const Tg* t, std::size_t t_size, std::size_t batch) {
    if (batch == 0 || y_size % batch != 0) [[unlikely]]
        ctnn::detail::fail(std::string(L::name) + ": prediction has " + std::to_string(y_size) +
                           " elements, not a multiple of the batch of " + std::to_string(batch));
    l.check_target(t, t_size, batch, y_size / batch);
}

/// CRTP base of a single-output loss: the default target count (labels: batch; values: batch ×
/// per_sample), the size check, and the CPU call form.
template <class Derived>
struct base {
    /// Target elements a batch needs: one label per sample, or one value per output element.
    std::size_t target_elements(std::size_t batch, std::size_t per_sample) const noexcept {
        if constexpr (takes_labels_v<Derived>) return batch;
        else return batch * per_sample;
    }
    /// Host-side size check (losses with value constraints add theirs, calling this first).
    template <class Tg>
    void check_target(const Tg*, std::size_t n, std::size_t batch, std::size_t per_sample) const {
        detail::check_target_size(Derived::name, n, self().target_elements(batch, per_sample), batch, per_sample,
                                  takes_labels_v<Derived> ? "one label per sample" : "one value per output");
    }

    /// CPU form: the mean loss of @p y against @p target, dL/dy into @p dy (same size as y). The batch is
    /// the number of labels for label losses, 1 (all elements one sample) for value losses.
    template <contiguous_tensor Y, contiguous_tensor Tg, contiguous_tensor G>
    auto operator()(const Y& y, const Tg& target, G&& dy) const {
        std::size_t batch = 1;
        if constexpr (takes_labels_v<Derived>) {
            batch = target.size();
            if (batch == 0 || y.size() % batch != 0) [[unlikely]]
                ctnn::detail::fail(std::string(Derived::name) + ": prediction has " + std::to_string(y.size()) +
                                   " elements, not a multiple of the " + std::to_string(batch) + " labels");
        }
        return (*this)(y, target, dy, batch);
    }
    /// CPU form with an explicit batch (y is [batch, y.size()/batch]).
    template <contiguous_tensor Y, contiguous_tensor Tg, contiguous_tensor G>
    auto operator()(const Y& y, const Tg& target, G&& dy, std::size_t batch) const {
        using T = detail::value_of_t<Y>;
        detail::check_gradient_size(Derived::name, dy.size(), y.size());
        check_batch(self(), y.size(), target.data(), target.size(), batch);
        T out{};
        self().template evaluate<cpu>(y.data(), target.data(), dy.data(), batch, y.size() / batch, &out);
        return out;
    }

private:
    const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
};

/// CRTP base of a pair loss: the default target count (labels: batch; values: batch × per_sample; none:
/// 0), the size check and the CPU form `loss(a, b, target, da, db, batch)`.
template <class Derived>
struct pair_base {
    /// Target elements a batch needs.
    std::size_t target_elements(std::size_t batch, std::size_t per_sample) const noexcept {
        if constexpr (std::same_as<typename Derived::target_kind, no_target>) return 0;
        else if constexpr (takes_labels_v<Derived>) return batch;
        else return batch * per_sample;
    }
    /// Host-side size check.
    template <class Tg>
    void check_target(const Tg*, std::size_t n, std::size_t batch, std::size_t per_sample) const {
        detail::check_target_size(Derived::name, n, self().target_elements(batch, per_sample), batch, per_sample, "targets");
    }
    /// CPU form: the loss of a, b [batch, a.size()/batch] against @p target; gradients into da and db.
    template <contiguous_tensor A, contiguous_tensor B, contiguous_tensor Tg, contiguous_tensor GA, contiguous_tensor GB>
    auto operator()(const A& a, const B& b, const Tg& target, GA&& da, GB&& db, std::size_t batch) const {
        using T = detail::value_of_t<A>;
        detail::check_gradient_size(Derived::name, b.size(), a.size(), "the second input");
        detail::check_gradient_size(Derived::name, da.size(), a.size(), "the first gradient buffer");
        detail::check_gradient_size(Derived::name, db.size(), a.size(), "the second gradient buffer");
        check_batch(self(), a.size(), target.data(), target.size(), batch);
        T out{};
        self().template evaluate<cpu>(a.data(), b.data(), target.data(), da.data(), db.data(), batch, a.size() / batch, &out);
        return out;
    }

private:
    const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
};

}  // namespace ctnn::loss
