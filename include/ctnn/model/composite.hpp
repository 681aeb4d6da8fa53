// SPDX-License-Identifier: MIT
#pragma once
/// @file composite.hpp  What every container of layers shares — chains, blocks (fork) and graphs:
/// the children's parameter and state offsets, attaching them to the model's buffers, drawing them,
/// their state_dict names, per-child freezing (by index or by name at any depth), the trainable
/// ranges, and copying per-layer state between policies. Written once here (CRTP: the container says
/// how it names a child with `child_prefix(prefix, k)`), so the containers differ only in how they run
/// their children.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../layers/concepts.hpp"
#include "../layers/named.hpp"

namespace ctnn::detail {

template <class F, std::size_t... I>
constexpr void static_for(F&& f, std::index_sequence<I...>) {
    (f(std::integral_constant<std::size_t, I>{}), ...);
}

template <class L>
constexpr std::size_t state_count_of_layer() {
    if constexpr (stateful_layer<L>) return L::state_count;
    else return 0;
}

/// Appends a plain layer's parameter (or state) entries named `<prefix><desc name>`.
template <class L>
void layout_plain(const std::string& prefix, std::size_t param_base, std::size_t state_base, bool states,
                  std::vector<parameter_entry>& out) {
    auto add = [&](const auto& descs, std::size_t off) {
        for (const auto& d : descs) {
            out.push_back({prefix + std::string(d.name), d, off});
            off += d.size();
        }
    };
    if (!states) add(L::parameters(), param_base);
    else if constexpr (stateful_layer<L>) add(L::states(), state_base);
}

/// Appends [begin, end) to sorted ranges, merging it with the last one when adjacent.
inline void append_range(std::vector<param_range>& out, std::size_t begin, std::size_t end) {
    if (begin == end) return;
    if (!out.empty() && out.back().end == begin) out.back().end = end;
    else out.push_back({begin, end});
}

/// The children of a container (bound layers, in order) and everything about them that does not
/// depend on how the container runs them. `Derived::child_prefix(prefix, k)` names child k's entries.
template <class Derived, class T, class... Children>
class composite {
public:
    using children = std::tuple<Children...>;
    static constexpr std::size_t child_count = sizeof...(Children);
    template <std::size_t K>
    using child_type = std::tuple_element_t<K, children>;

protected:
    using cidx = std::make_index_sequence<child_count>;
    template <class F>
    static constexpr auto child_sums(F f) {
        std::array<std::size_t, child_count + 1> o{};
        std::size_t acc = 0;
        static_for([&](auto k) { o[k] = acc, acc += f(std::type_identity<child_type<k>>{}, k); }, cidx{});
        o[child_count] = acc;
        return o;
    }

public:
    static constexpr auto parameter_offsets = child_sums([](auto t, auto) { return decltype(t)::type::parameter_count; });
    static constexpr auto state_offsets = child_sums([](auto t, auto) { return state_count_of_layer<typename decltype(t)::type>(); });
    static constexpr std::size_t parameter_count = parameter_offsets[child_count];
    static constexpr std::size_t state_count = state_offsets[child_count];
    /// A container names its children's entries itself (layout), so it describes none of its own.
    static constexpr std::array<param_desc, 0> parameters() noexcept { return {}; }
    static constexpr std::array<param_desc, 0> states() noexcept { return {}; }

    void attach(T* p, T* g) noexcept {
        each([&](auto& c, auto k) { c.attach(p + parameter_offsets[k], g + parameter_offsets[k]); });
    }
    void attach_state(T* s) noexcept {
        each([&](auto& c, auto k) {
            if constexpr (stateful_layer<std::remove_cvref_t<decltype(c)>>) c.attach_state(s + state_offsets[k]);
        });
    }
    void init(rng& g) {
        each([&](auto& c, auto) { c.init(g); });
    }

    /// Names and offsets of the children's parameters (or states) as a state_dict's entries.
    void layout(const std::string& prefix, std::size_t param_base, std::size_t state_base, bool states,
                std::vector<parameter_entry>& out) const {
        each([&](const auto& c, auto k) {
            using C = std::remove_cvref_t<decltype(c)>;
            const std::string p = Derived::child_prefix(prefix, k);
            if constexpr (composite_layer<C>) c.layout(p, param_base + parameter_offsets[k], state_base + state_offsets[k], states, out);
            else layout_plain<C>(p, param_base + parameter_offsets[k], state_base + state_offsets[k], states, out);
        });
    }

    /// Freezes child @p k (a container: all of it): no gradients, no updates and, with
    /// frozen_mode::eval, eval mode.
    void set_frozen(std::size_t k, bool frozen, frozen_mode how) {
        check(k < child_count, "freeze: index " + std::to_string(k) + " out of range (" + std::to_string(child_count) + ")");
        m_frozen[k] = frozen;
        m_frozen_mode[k] = how;
        self().update_trainable();
    }
    /// Freezes the child whose entries start with @p path (`"3"`, `"layer1.0"`, `"2.main.0"`), at any
    /// depth; false when no child has that name.
    bool set_frozen(std::string_view path, bool frozen, frozen_mode how, const std::string& prefix = "") {
        bool found = false;
        each([&](auto& c, auto k) {
            if (found) return;
            const std::string p = Derived::child_prefix(prefix, k);
            if (!p.empty() && std::string_view(p).substr(0, p.size() - 1) == path) {
                m_frozen[k] = frozen;
                m_frozen_mode[k] = how;
                found = true;
            } else if constexpr (requires { c.set_frozen(path, frozen, how, p); }) {
                if (path.substr(0, p.size()) == p) found = c.set_frozen(path, frozen, how, p);
            }
        });
        if (found) self().update_trainable();
        return found;
    }
    bool is_frozen(std::size_t k) const { return k < child_count && m_frozen[k]; }
    frozen_mode frozen_mode_of(std::size_t k) const { return k < child_count ? m_frozen_mode[k] : frozen_mode::eval; }

    /// Appends the ranges (offsets from @p base) an optimizer may update.
    void collect_trainable(std::size_t base, std::vector<param_range>& out) const {
        each([&](const auto& c, auto k) {
            using C = std::remove_cvref_t<decltype(c)>;
            if (m_frozen[k]) return;
            if constexpr (composite_layer<C>) c.collect_trainable(base + parameter_offsets[k], out);
            else append_range(out, base + parameter_offsets[k], base + parameter_offsets[k + 1]);
        });
    }
    /// Whether child @p k has any trainable parameter (not frozen at any depth).
    bool child_trainable(std::size_t k) const noexcept { return m_child_trainable[k]; }
    /// Whether any parameter inside is trainable.
    bool has_trainable() const noexcept {
        for (std::size_t k = 0; k < child_count; ++k)
            if (m_child_trainable[k]) return true;
        return false;
    }
    /// Recomputes which children are trainable, depth first (after any freeze).
    void update_trainable() noexcept {
        each([&](auto& c, auto k) {
            using C = std::remove_cvref_t<decltype(c)>;
            bool own = C::parameter_count > 0;
            if constexpr (composite_layer<C>) {
                c.update_trainable();
                own = c.has_trainable();
            }
            m_child_trainable[k] = !m_frozen[k] && own;
        });
    }

    /// Copies what lives in the layers rather than in buffers (dropout mask streams, frozen flags)
    /// from the same container on another policy.
    template <class Other>
    void copy_layer_state(const Other& o) {
        each([&](auto& mine, auto k) {
            const auto& theirs = o.template child<k()>();
            if constexpr (requires { mine.set_mask_stream(theirs.mask_seed(), theirs.mask_counter()); })
                mine.set_mask_stream(theirs.mask_seed(), theirs.mask_counter());
            else if constexpr (requires { mine.copy_layer_state(theirs); })
                mine.copy_layer_state(theirs);
        });
        for (std::size_t k = 0; k < child_count; ++k) {
            m_frozen[k] = o.is_frozen(k);
            m_frozen_mode[k] = o.frozen_mode_of(k);
        }
        self().update_trainable();
    }

    /// Child @p K (bound type).
    template <std::size_t K>
    auto& child() noexcept {
        return std::get<K>(m_children);
    }
    template <std::size_t K>
    const auto& child() const noexcept {
        return std::get<K>(m_children);
    }

protected:
    composite() = default;
    /// The mode child @p k runs in when the container runs in @p m.
    mode child_mode(std::size_t k, mode m) const noexcept {
        return m_frozen[k] && m_frozen_mode[k] == frozen_mode::eval ? mode::eval : m;
    }
    template <class F>
    void each(F&& f) {
        static_for([&](auto k) { f(std::get<k()>(m_children), k); }, cidx{});
    }
    template <class F>
    void each(F&& f) const {
        static_for([&](auto k) { f(std::get<k()>(m_children), k); }, cidx{});
    }
    Derived& self() noexcept { return static_cast<Derived&>(*this); }

    children m_children{};
    std::array<bool, child_count> m_frozen{};
    std::array<frozen_mode, child_count> m_frozen_mode{};
    std::array<bool, child_count> m_child_trainable{};
};

}  // namespace ctnn::detail
