// SPDX-License-Identifier: MIT
#pragma once
/// @file error.hpp  ctnn::error, the one exception type for bad runtime input. C++17.
#include <stdexcept>
#include <string>

namespace ctnn {

/// Thrown for bad runtime input: corrupt files, wrong names/shapes in weight files, batch larger
/// than reserved. The message names the file/array/layer and what was expected.
class error : public std::runtime_error {
public:
    explicit error(const std::string& what) : std::runtime_error("ctnn: " + what) {}
};

namespace detail {
/// Throws ctnn::error with @p msg when @p ok is false (cold path kept out of line).
[[gnu::cold, noreturn]] inline void fail(const std::string& msg) { throw error(msg); }
/// Throws ctnn::error with @p msg when @p ok is false. The message is built before the call: use
/// `if (!ok) fail(...)` on hot paths, where a string must not be built on success.
inline void check(bool ok, const std::string& msg) {
    if (!ok) fail(msg);  // (C++17: the CUDA translation units include this header)
}
}  // namespace detail
}  // namespace ctnn
