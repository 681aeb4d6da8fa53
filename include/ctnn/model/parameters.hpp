// SPDX-License-Identifier: MIT
#pragma once
/// @file parameters.hpp  The flat parameter buffer as optimizers see it.
#include <cstddef>
#include <string>
#include <vector>

#include "../backend/policy.hpp"
#include "../layers/concepts.hpp"

namespace ctnn {

/// A model's parameters and gradients (twin flat buffers, in the memory of policy P) and the ranges
/// an optimizer may update (frozen layers are left out). Points into the model: the model must
/// outlive it and not move.
template <class T, class P = cpu>
struct parameter_set {
    using policy = P;
    T* values = nullptr;
    T* gradients = nullptr;
    std::size_t size = 0;
    const std::vector<param_range>* trainable = nullptr;
};

/// One named parameter tensor of a model, PyTorch `state_dict` style (`"0.weight"`, [out, in]).
template <class T>
struct named_parameter {
    std::string name;
    param_desc desc;
    T* value;
    T* gradient;
};

}  // namespace ctnn
