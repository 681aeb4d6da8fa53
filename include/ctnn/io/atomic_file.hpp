// SPDX-License-Identifier: MIT
#pragma once
/// @file atomic_file.hpp  Whole-file writes that never leave a half-written file behind.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "../core/error.hpp"

namespace ctnn::io {

/// Writes @p bytes to a temporary file next to @p path, flushes it to disk, then renames it over
/// @p path (atomic on POSIX). On any failure the temporary is removed, @p path is untouched, and
/// ctnn::error names the file.
inline void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
    const std::string target = path.string();
    const std::string tmp = target + ".tmp-" + std::to_string(::getpid());
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) ctnn::detail::fail("cannot write '" + target + "': cannot create temporary '" + tmp + "'");
    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    ok = std::fflush(f) == 0 && ok;
    ok = ::fsync(::fileno(f)) == 0 && ok;
    ok = std::fclose(f) == 0 && ok;
    if (!ok || std::rename(tmp.c_str(), target.c_str()) != 0) {
        std::remove(tmp.c_str());
        ctnn::detail::fail("cannot write '" + target + "': write or rename failed (disk full or no permission?)");
    }
}

}  // namespace ctnn::io
