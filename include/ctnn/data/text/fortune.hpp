// SPDX-License-Identifier: MIT
#pragma once
/// @file fortune.hpp  Reader for fortune files (the `fortune`/`strfile` format: entries separated by a
/// line holding only `%`), as installed by the Debian packages fortunes, fortunes-de, -es, -it, -ru,
/// -pl, -cs and -br. Standard library only.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../../core/error.hpp"
#include "utf8.hpp"

namespace ctnn::data::text {

/// Where Debian's `fortunes` package puts its English topics (computers, people, politics, science,
/// love, ...). The other packages use subfolders: de/ (fortunes-de), es/ (fortunes-es, files named
/// <topic>.fortunes), it/, ru/, pl/, cs/; fortunes-br installs the single file `brasil`.
inline constexpr const char* fortune_default_dir = "/usr/share/games/fortunes";

/// How to read a fortune file.
struct fortune_options {
    encoding file_encoding = encoding::utf8;  ///< bytes of the file (all Debian fortune packages: utf8)
    bool keep_empty = false;                  ///< keep entries holding only white space (as "" or as is)
    std::size_t max_bytes = std::size_t(1) << 30;  ///< refuse larger files
};

/// The entries of fortune-file text @p bytes; @p name is used in error messages.
/// Rules: lines end in LF or CRLF (a CR before LF is dropped); a line that is `%` followed only by
/// spaces, tabs or CR is a separator (Debian's es/, it/ and ru/ files have such `% ` lines); an entry
/// is the lines between two separators joined with '\n', without a trailing newline; text after
/// the last separator is an entry (files need not end in `%`); a UTF-8 byte order mark at the start
/// is dropped; entries holding only white space are dropped unless @p opt.keep_empty (then two
/// adjacent separators give a "" entry; nothing before the first or after the last separator is an
/// entry unless it has lines). Bytes are
/// converted from @p opt.file_encoding; invalid UTF-8 is a ctnn::error naming @p name and the byte offset.
inline std::vector<std::string> parse_fortunes(std::string_view bytes, const std::string& name,
                                               const fortune_options& opt = {}) {
    std::string utf8 = to_utf8(bytes, opt.file_encoding, name);
    std::string_view s = utf8;
    if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
    std::vector<std::string> out;
    std::string cur;
    bool have_lines = false;  // cur holds at least one line (so "" is an empty line, not no entry)
    std::size_t separators = 0;
    auto flush = [&](bool between_separators) {
        const bool blank = cur.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
        if ((have_lines || between_separators) && (!blank || opt.keep_empty)) out.push_back(cur);
        cur.clear();
        have_lines = false;
    };
    std::size_t pos = 0;
    while (pos < s.size()) {
        std::size_t end = s.find('\n', pos);
        std::string_view line = s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        pos = end == std::string_view::npos ? s.size() : end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const std::size_t last = line.find_last_not_of(" \t\r");
        if (last == 0 && line[0] == '%') {
            flush(separators++ > 0);
            continue;
        }
        if (have_lines) cur += '\n';
        cur += line;
        have_lines = true;
    }
    flush(false);
    return out;
}

/// The entries of the fortune file @p path (see parse_fortunes for the rules). Throws ctnn::error
/// naming the file when it is missing, unreadable, larger than @p opt.max_bytes or not valid text.
inline std::vector<std::string> read_fortunes(const std::filesystem::path& path, const fortune_options& opt = {}) {
    const std::string f = path.string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        ctnn::detail::fail("text: cannot open fortune file '" + f + "': no such file" +
                           (std::filesystem::is_directory(path, ec) ? " (it is a directory; use list_fortune_files)" : ""));
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) ctnn::detail::fail("text: cannot read fortune file '" + f + "': " + ec.message());
    if (size > opt.max_bytes)
        ctnn::detail::fail("text: fortune file '" + f + "' has " + std::to_string(size) + " bytes, more than max_bytes = " +
                           std::to_string(opt.max_bytes));
    std::ifstream in(path, std::ios::binary);
    if (!in) ctnn::detail::fail("text: cannot open fortune file '" + f + "' (permission?)");
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.read(bytes.data(), std::streamsize(bytes.size()));
    if (std::size_t(in.gcount()) != bytes.size())
        ctnn::detail::fail("text: cannot read fortune file '" + f + "': got " + std::to_string(in.gcount()) + " of " +
                           std::to_string(size) + " bytes");
    return parse_fortunes(bytes, f, opt);
}

/// The fortune text files directly in @p dir, sorted by name: regular files (symbolic links followed)
/// except hidden ones, the binary `.dat` indexes strfile writes, and the `.u8` entries (Debian links
/// or empty markers saying "this file is UTF-8"); sub-folders are not entered; a file reached twice
/// through links is listed once. Throws ctnn::error naming @p dir when it is not a directory.
inline std::vector<std::filesystem::path> list_fortune_files(const std::filesystem::path& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        ctnn::detail::fail("text: fortune directory '" + dir.string() +
                           "' does not exist (install the Debian package `fortunes`, or fortunes-de/-es/-it/-ru/-pl/-cs)");
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.empty() || name[0] == '.') continue;
        const std::string ext = e.path().extension().string();
        if (ext == ".dat" || ext == ".u8") continue;
        std::error_code ec2;
        if (!std::filesystem::is_regular_file(e.path(), ec2)) continue;
        files.push_back(e.path());
    }
    if (ec) ctnn::detail::fail("text: cannot list fortune directory '" + dir.string() + "': " + ec.message());
    std::sort(files.begin(), files.end());
    std::set<std::filesystem::path> seen;
    std::vector<std::filesystem::path> unique;
    for (auto& p : files) {
        std::error_code ec2;
        auto c = std::filesystem::canonical(p, ec2);
        if (seen.insert(ec2 ? p : c).second) unique.push_back(p);
    }
    return unique;
}

/// Texts with integer class labels: texts[i] belongs to classes[labels[i]].
struct labelled_texts {
    std::vector<std::string> texts;
    std::vector<std::int32_t> labels;
    std::vector<std::string> classes;
};

/// The entries of several fortune files of @p dir, labelled by topic (file name): @p topics in the
/// given order (label = position), or every file list_fortune_files finds when @p topics is empty.
/// A topic `t` is read from `dir/t`, else `dir/t.fortunes` (the naming of fortunes-es). Throws
/// ctnn::error naming the missing file.
inline labelled_texts read_fortune_topics(const std::filesystem::path& dir, std::vector<std::string> topics = {},
                                          const fortune_options& opt = {}) {
    std::vector<std::filesystem::path> paths;
    if (topics.empty()) {
        paths = list_fortune_files(dir);
        for (auto& p : paths) {
            std::string t = p.filename().string();
            if (p.extension() == ".fortunes") t = p.stem().string();
            topics.push_back(t);
        }
    } else {
        for (auto& t : topics) {
            std::error_code ec;
            auto p = dir / t;
            if (!std::filesystem::is_regular_file(p, ec) && std::filesystem::is_regular_file(dir / (t + ".fortunes"), ec))
                p = dir / (t + ".fortunes");
            paths.push_back(p);
        }
    }
    labelled_texts out;
    out.classes = topics;
    for (std::size_t k = 0; k < paths.size(); ++k) {
        auto entries = read_fortunes(paths[k], opt);
        for (auto& e : entries) {
            out.texts.push_back(std::move(e));
            out.labels.push_back(std::int32_t(k));
        }
    }
    return out;
}

}  // namespace ctnn::data::text
