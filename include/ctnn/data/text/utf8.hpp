// SPDX-License-Identifier: MIT
#pragma once
/// @file utf8.hpp  Strict UTF-8 validation and decoding, Latin-1/KOI8-R conversion, and the small
/// case-folding and letter tables the word tokenizer uses. Standard library only.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../../core/error.hpp"

namespace ctnn::data::text {

/// Byte encodings a text file may be read from; everything inside ctnn::data::text is UTF-8.
/// The Debian fortune packages (fortunes, -de, -es, -it, -ru, -pl, -cs, -br) are all UTF-8 (checked:
/// every text file they install decodes strictly); latin1 and koi8_r are there for older files.
enum class encoding { utf8, latin1, koi8_r };

/// Where and why a byte string stops being valid UTF-8.
struct utf8_problem {
    std::size_t offset = 0;   ///< byte offset of the first byte of the bad sequence
    const char* reason = "";  ///< what was wrong, in words
};

namespace detail {
/// Length of the sequence starting at s[i] and its code point, or 0 with @p why set when invalid.
inline std::size_t utf8_step(std::string_view s, std::size_t i, char32_t& cp, const char*& why) noexcept {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    std::size_t n = 0;
    char32_t min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) n = 2, cp = b0 & 0x1F, min = 0x80;
    else if (b0 >= 0xE0 && b0 <= 0xEF) n = 3, cp = b0 & 0x0F, min = 0x800;
    else if (b0 >= 0xF0 && b0 <= 0xF4) n = 4, cp = b0 & 0x07, min = 0x10000;
    else {
        why = (b0 >= 0x80 && b0 <= 0xBF) ? "unexpected continuation byte"
              : (b0 == 0xC0 || b0 == 0xC1) ? "overlong encoding"
                                           : "byte never valid in UTF-8";
        return 0;
    }
    for (std::size_t k = 1; k < n; ++k) {
        if (i + k >= s.size()) {
            why = "multi-byte sequence truncated by the end of the input";
            return 0;
        }
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) {
            why = "multi-byte sequence missing a continuation byte";
            return 0;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min) why = "overlong encoding";
    else if (cp >= 0xD800 && cp <= 0xDFFF) why = "UTF-16 surrogate code point";
    else if (cp > 0x10FFFF) why = "code point above U+10FFFF";
    else return n;
    return 0;
}
inline std::string hex_byte(unsigned char b) {
    const char* d = "0123456789ABCDEF";
    return std::string("0x") + d[b >> 4] + d[b & 15];
}
}  // namespace detail

/// The first invalid spot in @p s (strict UTF-8: no overlongs, surrogates or code points above
/// U+10FFFF), or an offset equal to s.size() with an empty reason when @p s is valid.
inline utf8_problem find_invalid_utf8(std::string_view s) noexcept {
    char32_t cp = 0;
    for (std::size_t i = 0; i < s.size();) {
        const char* why = "";
        const std::size_t n = detail::utf8_step(s, i, cp, why);
        if (n == 0) return {i, why};
        i += n;
    }
    return {s.size(), ""};
}

/// Throws ctnn::error naming @p what, the byte offset and the offending byte unless @p s is valid UTF-8.
inline void check_utf8(std::string_view s, const std::string& what) {
    const utf8_problem p = find_invalid_utf8(s);
    if (p.offset == s.size()) return;
    ctnn::detail::fail("text: '" + what + "' is not valid UTF-8 at byte offset " + std::to_string(p.offset) + " (byte " +
                       detail::hex_byte(static_cast<unsigned char>(s[p.offset])) + ": " + p.reason +
                       "); if the file is Latin-1 or KOI8-R, read it with text::encoding::latin1 or ::koi8_r");
}

/// The code points of @p s. @pre nothing; throws ctnn::error naming @p what when @p s is not valid UTF-8.
inline std::u32string decode_utf8(std::string_view s, const std::string& what = "text") {
    std::u32string out;
    out.reserve(s.size());
    char32_t cp = 0;
    for (std::size_t i = 0; i < s.size();) {
        const char* why = "";
        const std::size_t n = detail::utf8_step(s, i, cp, why);
        if (n == 0) check_utf8(s, what);  // throws with the offset
        out.push_back(cp);
        i += n;
    }
    return out;
}

/// Appends the UTF-8 encoding of @p cp to @p out. @pre cp <= U+10FFFF and not a surrogate.
inline void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

/// The UTF-8 encoding of the code points @p cps.
inline std::string encode_utf8(std::u32string_view cps) {
    std::string out;
    out.reserve(cps.size());
    for (char32_t c : cps) append_utf8(out, c);
    return out;
}

/// KOI8-R bytes 0x80..0xFF as Unicode code points (RFC 1489; the table Python's koi8_r codec uses).
inline constexpr std::array<char16_t, 128> koi8_r_table = {
    0x2500, 0x2502, 0x250C, 0x2510, 0x2514, 0x2518, 0x251C, 0x2524, 0x252C, 0x2534, 0x253C, 0x2580, 0x2584, 0x2588,
    0x258C, 0x2590, 0x2591, 0x2592, 0x2593, 0x2320, 0x25A0, 0x2219, 0x221A, 0x2248, 0x2264, 0x2265, 0x00A0, 0x2321,
    0x00B0, 0x00B2, 0x00B7, 0x00F7, 0x2550, 0x2551, 0x2552, 0x0451, 0x2553, 0x2554, 0x2555, 0x2556, 0x2557, 0x2558,
    0x2559, 0x255A, 0x255B, 0x255C, 0x255D, 0x255E, 0x255F, 0x2560, 0x2561, 0x0401, 0x2562, 0x2563, 0x2564, 0x2565,
    0x2566, 0x2567, 0x2568, 0x2569, 0x256A, 0x256B, 0x256C, 0x00A9, 0x044E, 0x0430, 0x0431, 0x0446, 0x0434, 0x0435,
    0x0444, 0x0433, 0x0445, 0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E, 0x043F, 0x044F, 0x0440, 0x0441,
    0x0442, 0x0443, 0x0436, 0x0432, 0x044C, 0x044B, 0x0437, 0x0448, 0x044D, 0x0449, 0x0447, 0x044A, 0x042E, 0x0410,
    0x0411, 0x0426, 0x0414, 0x0415, 0x0424, 0x0413, 0x0425, 0x0418, 0x0419, 0x041A, 0x041B, 0x041C, 0x041D, 0x041E,
    0x041F, 0x042F, 0x0420, 0x0421, 0x0422, 0x0423, 0x0416, 0x0412, 0x042C, 0x042B, 0x0417, 0x0428, 0x042D, 0x0429,
    0x0427, 0x042A};

/// @p bytes in encoding @p enc as UTF-8: utf8 is validated (ctnn::error naming @p what and the byte
/// offset) and returned as is; latin1 maps byte b to U+00bb; koi8_r maps through koi8_r_table.
inline std::string to_utf8(std::string_view bytes, encoding enc, const std::string& what = "text") {
    if (enc == encoding::utf8) {
        check_utf8(bytes, what);
        return std::string(bytes);
    }
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 4);
    for (char ch : bytes) {
        const auto b = static_cast<unsigned char>(ch);
        if (b < 0x80) out += ch;
        else append_utf8(out, enc == encoding::latin1 ? char32_t(b) : char32_t(koi8_r_table[b - 0x80]));
    }
    return out;
}

/// Simple lower-case mapping for ASCII, Latin-1, Latin Extended-A, basic Greek and Cyrillic
/// (U+0400..U+052F); any other code point is returned unchanged. Agrees with Unicode's simple
/// lowercase mapping on those ranges (U+0130 İ maps to i; U+017F ſ and U+00DF ß stay).
constexpr char32_t to_lower(char32_t c) noexcept {
    if (c < 0x80) return (c >= U'A' && c <= U'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE) return c == 0xD7 ? c : c + 0x20;
    if (c >= 0x100 && c <= 0x17F) {
        if (c == 0x130) return U'i';
        if (c == 0x178) return 0xFF;
        if (c <= 0x12F || (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c | 1;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
        return c;
    }
    if (c >= 0x386 && c <= 0x3AB) {
        if (c == 0x386) return 0x3AC;
        if (c >= 0x388 && c <= 0x38A) return c + 37;
        if (c == 0x38C) return 0x3CC;
        if (c == 0x38E || c == 0x38F) return c + 63;
        if (c >= 0x391 && c != 0x3A2) return c + 0x20;
        return c;
    }
    if (c >= 0x400 && c <= 0x52F) {
        if (c <= 0x40F) return c + 0x50;
        if (c <= 0x42F) return c + 0x20;
        if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || c >= 0x4D0) return c | 1;
        if (c == 0x4C0) return 0x4CF;
        if (c >= 0x4C1 && c <= 0x4CE) return (c & 1) ? c + 1 : c;
    }
    return c;
}

/// @p s with every code point passed through to_lower. Throws ctnn::error when @p s is not UTF-8.
inline std::string to_lower_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : decode_utf8(s)) append_utf8(out, to_lower(c));
    return out;
}

/// True for letters in the scripts the word tokenizer knows: ASCII, Latin-1, Latin Extended-A/B and
/// IPA (U+0100..U+02AF), combining diacritics (U+0300..U+036F, so decomposed letters stay in a word),
/// Greek, Cyrillic (U+0400..U+052F), Hebrew and Arabic letters, Latin Extended Additional, kana, CJK
/// ideographs and Hangul syllables. Everything else (punctuation, symbols, spaces) is not a letter.
constexpr bool is_letter(char32_t c) noexcept {
    if (c < 0x80) return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z');
    if (c < 0x100) return c == 0xAA || c == 0xB5 || c == 0xBA || (c >= 0xC0 && c != 0xD7 && c != 0xF7);
    if (c <= 0x2AF) return true;
    if (c >= 0x300 && c <= 0x36F) return true;
    if (c >= 0x370 && c <= 0x3FF)
        return c != 0x374 && c != 0x375 && c != 0x37E && c != 0x384 && c != 0x385 && c != 0x387 && c != 0x3F6;
    if (c >= 0x400 && c <= 0x52F) return c != 0x482;
    return (c >= 0x5D0 && c <= 0x5EA) || (c >= 0x620 && c <= 0x64A) || (c >= 0x1E00 && c <= 0x1EFF) ||
           (c >= 0x3041 && c <= 0x30FA) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3);
}

/// True for the apostrophes the word tokenizer keeps inside words: ' (U+0027) and ’ (U+2019).
constexpr bool is_apostrophe(char32_t c) noexcept { return c == U'\'' || c == 0x2019; }

}  // namespace ctnn::data::text
