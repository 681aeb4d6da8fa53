// SPDX-License-Identifier: MIT
#pragma once
/// @file model_io.hpp  save_npz / load_npz for models, with PyTorch `state_dict` names and layouts.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../model/parameters.hpp"
#include "npz.hpp"

namespace ctnn {

namespace detail {
/// One state_dict entry as an npy array: values of type T, or int64 for integer states.
template <class T>
io::npy_array to_npy(const parameter_entry& e, const T* values) {
    io::npy_array a;
    a.shape.assign(e.desc.dims.begin(), e.desc.dims.begin() + e.desc.rank);
    const std::size_t n = e.desc.size();
    if (e.desc.integer) {
        a.dtype = io::npy_dtype<std::int64_t>();
        std::vector<std::int64_t> v(n);
        for (std::size_t i = 0; i < n; ++i) v[i] = std::int64_t(values[e.offset + i]);
        a.data.assign(reinterpret_cast<const char*>(v.data()), n * sizeof(std::int64_t));
    } else {
        a.dtype = io::npy_dtype<T>();
        a.data.assign(reinterpret_cast<const char*>(values + e.offset), n * sizeof(T));
    }
    return a;
}

inline std::string dims_string(const std::size_t* b, const std::size_t* e) {
    std::string s = "[";
    for (auto i = b; i != e; ++i) s += (i == b ? "" : ", ") + std::to_string(*i);
    return s + "]";
}

/// Checks that @p a can fill entry @p e of a model (name, dtype, shape) or throws naming the file.
template <class T>
void check_entry(const std::string& f, const parameter_entry& e, const io::npy_array& a) {
    const char* want = e.desc.integer ? io::npy_dtype<std::int64_t>() : io::npy_dtype<T>();
    if (a.dtype != want)
        fail("load_npz: '" + f + "' array '" + e.name + "' has dtype " + a.dtype + ", expected " + want);
    bool same = a.shape.size() == e.desc.rank;
    for (std::size_t i = 0; same && i < e.desc.rank; ++i) same = a.shape[i] == e.desc.dims[i];
    if (!same)
        fail("load_npz: '" + f + "' array '" + e.name + "' has shape " + dims_string(a.shape.data(), a.shape.data() + a.shape.size()) +
             ", expected " + dims_string(e.desc.dims.data(), e.desc.dims.data() + e.desc.rank));
}

template <class T>
void from_npy(const parameter_entry& e, const io::npy_array& a, T* values) {
    const std::size_t n = e.desc.size();
    if (e.desc.integer) {
        std::vector<std::int64_t> v(n);
        std::memcpy(v.data(), a.data.data(), n * sizeof(std::int64_t));
        for (std::size_t i = 0; i < n; ++i) values[e.offset + i] = T(v[i]);
    } else
        std::memcpy(values + e.offset, a.data.data(), n * sizeof(T));
}
}  // namespace detail

/// Saves every named parameter of @p model (`0.weight` [out, in], `0.bias` [out], ...) and every
/// persistent state (`1.running_mean`, `1.num_batches_tracked` as int64, ...) as an npz archive,
/// atomically. Load it in Python with `np.load` and `torch.from_numpy` into the equivalent
/// nn.Sequential's state_dict. A CUDA model's values are copied through the host.
template <class Model>
void save_npz(const Model& model, const std::filesystem::path& path, bool compress = true) {
    const auto values = model.host_parameters();
    const auto states = model.host_states();
    std::map<std::string, io::npy_array> arrays;
    for (const auto& e : model.parameter_layout()) arrays.emplace(e.name, detail::to_npy(e, values.data()));
    for (const auto& e : model.state_layout())
        if (e.desc.persistent) arrays.emplace(e.name, detail::to_npy(e, states.data()));
    io::write_npz(path, arrays, compress);
}

/// How load_npz matches an archive to a model.
struct load_options {
    /// true: every model entry must be in the archive and nothing else (dtype and shape equal), else
    /// ctnn::error and the model is unchanged. false (transfer learning): entries present in both with
    /// equal dtype and shape are loaded; the rest is reported, and the model keeps its own values there.
    bool strict = true;
};
/// What a load_npz call did: names loaded, archive arrays skipped (unknown to the model or of another
/// shape/dtype), and model entries the archive lacked (kept as they were).
struct load_report {
    std::vector<std::string> loaded, skipped, missing;
};

/// Loads parameters and persistent states saved by save_npz (or exported from PyTorch) into @p model.
/// Strict (the default): every name, dtype and shape is checked before anything is copied; on the first
/// mismatch (missing array, extra array, wrong dtype, wrong shape) ctnn::error names it and the model is
/// unchanged. A CUDA model's values are assembled on the host and uploaded once.
template <class Model>
load_report load_npz(Model& model, const std::filesystem::path& path, load_options opt = {}) {
    using T = typename Model::value_type;
    const std::string f = path.string();
    auto arrays = io::read_npz(path);
    const std::vector<parameter_entry> params = model.parameter_layout();
    std::vector<parameter_entry> persistent;
    for (const auto& e : model.state_layout())
        if (e.desc.persistent) persistent.push_back(e);
    const std::vector<parameter_entry>& states = persistent;
    load_report report;
    auto usable = [&](const parameter_entry& e) {
        auto it = arrays.find(e.name);
        if (it == arrays.end()) {
            if (opt.strict) detail::fail("load_npz: '" + f + "' lacks array '" + e.name + "'");
            report.missing.push_back(e.name);
            return false;
        }
        if (opt.strict) {
            detail::check_entry<T>(f, e, it->second);
            return true;
        }
        try {
            detail::check_entry<T>(f, e, it->second);
            return true;
        } catch (const ctnn::error&) {
            report.skipped.push_back(e.name);
            return false;
        }
    };
    std::vector<char> use_param, use_state;
    for (const auto& e : params) use_param.push_back(usable(e));
    for (const auto& e : states) use_state.push_back(usable(e));
    for (const auto& [name, a] : arrays) {
        bool known = false;
        for (const auto* list : {&params, &states})
            for (const auto& e : *list) known = known || e.name == name;
        if (known) continue;
        if (opt.strict) detail::fail("load_npz: '" + f + "' has unexpected array '" + name + "' (the model has no such parameter)");
        report.skipped.push_back(name);
    }
    std::vector<T> values = model.host_parameters();
    for (std::size_t i = 0; i < params.size(); ++i)
        if (use_param[i]) {
            detail::from_npy(params[i], arrays[params[i].name], values.data());
            report.loaded.push_back(params[i].name);
        }
    std::vector<T> state_values = model.host_states();  // non-persistent states keep their values
    for (std::size_t i = 0; i < states.size(); ++i)
        if (use_state[i]) {
            detail::from_npy(states[i], arrays[states[i].name], state_values.data());
            report.loaded.push_back(states[i].name);
        }
    model.set_parameters(values);
    model.set_states(state_values);
    return report;
}

}  // namespace ctnn
