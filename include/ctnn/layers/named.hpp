// SPDX-License-Identifier: MIT
#pragma once
/// @file named.hpp  named<"conv1", spec>: the same layer, with its parameters and states named
/// `conv1.weight`, `conv1.running_mean`, ... instead of by position — how models reproduce another
/// library's state_dict names exactly (torchvision's ResNet: `layer1.0.conv1.weight`).
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "../backend/policy.hpp"
#include "concepts.hpp"

namespace ctnn {

/// A string usable as a template argument: `named<"layer1.0", ...>`.
template <std::size_t N>
struct fixed_string {
    char chars[N]{};
    constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, chars); }
    constexpr std::string_view view() const { return {chars, N - 1}; }
};

/// Spec with an explicit name: its entries are `<Name>.<param>` (inside a block: `<block>.<Name>.<param>`).
template <fixed_string Name, class Spec>
struct named {
    static_assert(layer_spec<Spec>, "ctnn::named: the second argument must be a layer spec such as conv2d<64, 3>");
    template <shape_type In, class T, class P = cpu>
    struct bind : Spec::template bind<In, T, P> {
        static constexpr std::string_view given_name = Name.view();
    };
};

namespace detail {
/// The prefix of a layer's entries: its given name if it has one, else its position.
template <class L>
std::string entry_prefix(const std::string& outer, std::size_t index) {
    if constexpr (requires { L::given_name; }) return outer + std::string(L::given_name) + ".";
    else return outer + std::to_string(index) + ".";
}
}  // namespace detail

}  // namespace ctnn
