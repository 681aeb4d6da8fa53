// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <ctnn/data/text.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace tx = ctnn::data::text;
using Catch::Matchers::Contains;

namespace {
fs::path tmp_path(const std::string& name) {
    const auto d = fs::temp_directory_path() / "ctnn_text_test";
    fs::create_directories(d);
    return d / name;
}
void write_bytes(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}
using strings = std::vector<std::string>;
}  // namespace

TEST_CASE("text: fortune files split into entries at lines holding only %", "[text][fortune]") {
    SECTION("entries, separators and a missing final separator") {
        const auto e = tx::parse_fortunes("one\n%\ntwo\nlines\n%\nthree\n", "mem");
        REQUIRE(e == strings{"one", "two\nlines", "three"});
    }
    SECTION("a trailing separator and trailing newline add no entry") {
        REQUIRE(tx::parse_fortunes("a\n%\nb\n%\n", "mem") == strings{"a", "b"});
        REQUIRE(tx::parse_fortunes("a\n%\nb\n%", "mem") == strings{"a", "b"});
        REQUIRE(tx::parse_fortunes("a\n%\nb", "mem") == strings{"a", "b"});
    }
    SECTION("inner blank lines and indentation are kept; a blank last line is kept inside the entry") {
        REQUIRE(tx::parse_fortunes("  x\n\n\ty\n%\n", "mem") == strings{"  x\n\n\ty"});
        REQUIRE(tx::parse_fortunes("x\n\n%\n", "mem") == strings{"x\n"});
    }
    SECTION("CRLF line ends and '% ' separators (as in Debian's ru/ and es/ files)") {
        REQUIRE(tx::parse_fortunes("a\r\nb\r\n%\r\nc\r\n% \t\nd\n", "mem") == strings{"a\nb", "c", "d"});
    }
    SECTION("lines that merely start with % are text") {
        REQUIRE(tx::parse_fortunes("%DCL-MEM-BAD\n%\n% P.S.\n %\n", "mem") == strings{"%DCL-MEM-BAD", "% P.S.\n %"});
    }
    SECTION("empty entries are dropped unless keep_empty") {
        const std::string s = "%\na\n%\n%\n  \n%\nb\n";
        REQUIRE(tx::parse_fortunes(s, "mem") == strings{"a", "b"});
        tx::fortune_options keep;
        keep.keep_empty = true;
        REQUIRE(tx::parse_fortunes(s, "mem", keep) == strings{"a", "", "  ", "b"});
        REQUIRE(tx::parse_fortunes("", "mem").empty());
        REQUIRE(tx::parse_fortunes("%\n%\n", "mem").empty());
    }
    SECTION("a UTF-8 byte order mark is dropped") {
        REQUIRE(tx::parse_fortunes("\xEF\xBB\xBFhi\n%\n", "mem") == strings{"hi"});
    }
    SECTION("read_fortunes reads a file the same way") {
        const auto p = tmp_path("topic");
        write_bytes(p, "Gr\xC3\xBC\xC3\x9F Gott\n%\n\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82\n");
        REQUIRE(tx::read_fortunes(p) == strings{"Grüß Gott", "Привет"});
    }
}

TEST_CASE("text: bad input is a ctnn::error naming the file and the byte offset", "[text][fortune][utf8]") {
    SECTION("invalid byte in the middle") {
        const auto p = tmp_path("latin1_topic");
        write_bytes(p, "ok\n%\nK\xE4se\n");  // Latin-1 ä: byte 6 starts a 3-byte sequence that is not one
        REQUIRE_THROWS_AS(tx::read_fortunes(p), ctnn::error);
        REQUIRE_THROWS_WITH(tx::read_fortunes(p), Contains(p.string()) && Contains("byte offset 6") && Contains("0xE4") &&
                                                      Contains("latin1"));
        SECTION("the same file read as Latin-1 converts") {
            tx::fortune_options o;
            o.file_encoding = tx::encoding::latin1;
            REQUIRE(tx::read_fortunes(p, o) == strings{"ok", "K\xC3\xA4se"});
        }
    }
    SECTION("a multi-byte sequence truncated by the end of the file") {
        const auto p = tmp_path("truncated_topic");
        write_bytes(p, "abc\n%\n\xD0\x9F\xD1");  // П then the first byte of р
        REQUIRE_THROWS_WITH(tx::read_fortunes(p), Contains(p.string()) && Contains("byte offset 8") && Contains("truncated"));
    }
    SECTION("overlong encodings, surrogates and stray continuation bytes") {
        REQUIRE(tx::find_invalid_utf8("a\xC0\xAF").offset == 1);
        REQUIRE(tx::find_invalid_utf8("ab\xE0\x80\xAF").offset == 2);
        REQUIRE(tx::find_invalid_utf8("\xED\xA0\x80").offset == 0);
        REQUIRE(tx::find_invalid_utf8("\xF4\x90\x80\x80").offset == 0);
        REQUIRE(tx::find_invalid_utf8("xyz\x80").offset == 3);
        REQUIRE(tx::find_invalid_utf8("\xF0\x9F\x98\x80 ok").offset == 7);  // valid: offset == size()
    }
    SECTION("KOI8-R converts through its table") {
        tx::fortune_options o;
        o.file_encoding = tx::encoding::koi8_r;
        REQUIRE(tx::parse_fortunes("\xF0\xD2\xC9\xD7\xC5\xD4\n%\n", "mem", o) == strings{"Привет"});
    }
    SECTION("a missing file and a missing directory are named") {
        const auto p = tmp_path("no_such_topic");
        REQUIRE_THROWS_WITH(tx::read_fortunes(p), Contains(p.string()) && Contains("no such file"));
        REQUIRE_THROWS_WITH(tx::list_fortune_files(tmp_path("no_such_dir")), Contains("no_such_dir"));
    }
}

TEST_CASE("text: listing a fortune directory skips .dat indexes, .u8 markers and sub-folders", "[text][fortune]") {
    const auto d = tmp_path("fortune_dir");
    fs::remove_all(d);
    fs::create_directories(d / "off");
    write_bytes(d / "love", "l1\n%\nl2\n");
    write_bytes(d / "love.dat", std::string("\x00\x00\x00\x02\x00\x00\x00\x02", 8));
    write_bytes(d / "love.u8", "");
    write_bytes(d / "science.fortunes", "s1\n%\ns2\n%\ns3\n");
    write_bytes(d / ".hidden", "h\n");
    fs::create_symlink("love", d / "love_again");
    const auto files = tx::list_fortune_files(d);
    REQUIRE(files.size() == 2);
    REQUIRE(files[0].filename() == "love");
    REQUIRE(files[1].filename() == "science.fortunes");

    const auto all = tx::read_fortune_topics(d);
    REQUIRE(all.classes == strings{"love", "science"});
    REQUIRE(all.texts == strings{"l1", "l2", "s1", "s2", "s3"});
    REQUIRE(all.labels == std::vector<std::int32_t>{0, 0, 1, 1, 1});

    const auto picked = tx::read_fortune_topics(d, {"science", "love"});
    REQUIRE(picked.labels == std::vector<std::int32_t>{0, 0, 0, 1, 1});
    REQUIRE(picked.texts.front() == "s1");
    REQUIRE_THROWS_WITH(tx::read_fortune_topics(d, {"politics"}), Contains("politics") && Contains("no such file"));
}

TEST_CASE("text: character tokenizer yields UTF-8 code points", "[text][tokenizer]") {
    const tx::char_tokenizer chars;
    REQUIRE(chars("ab c") == strings{"a", "b", " ", "c"});
    REQUIRE(chars("Äpfel") == strings{"Ä", "p", "f", "e", "l"});
    REQUIRE(chars("Мир\n") == strings{"М", "и", "р", "\n"});
    REQUIRE(chars("😀").size() == 1);
    REQUIRE(chars.join(chars("Grüße, мир!\n")) == "Grüße, мир!\n");
    REQUIRE(tx::char_tokenizer{true}("ÄБ") == strings{"ä", "б"});
    REQUIRE_THROWS_AS(chars("bad \xFF"), ctnn::error);
}

TEST_CASE("text: word tokenizer lower-cases runs of letters, digits and apostrophes", "[text][tokenizer]") {
    const tx::word_tokenizer words;
    REQUIRE(words("Hello, World! It's 42.") == strings{"hello", "world", "it's", "42"});
    REQUIRE(words("ÄRGER über Straße") == strings{"ärger", "über", "straße"});
    REQUIRE(words("Привет, МИР! Ёлка") == strings{"привет", "мир", "ёлка"});
    REQUIRE(words("ŁÓDŹ Żółć ČESKÝ") == strings{"łódź", "żółć", "český"});
    REQUIRE(words("don’t 'quoted' dogs' ''") == strings{"don't", "quoted", "dogs"});
    REQUIRE(words("a--b...c_d (e)") == strings{"a", "b", "c", "d", "e"});
    REQUIRE(words("   ").empty());
    REQUIRE(tx::word_tokenizer{false}("Hello World") == strings{"Hello", "World"});
    REQUIRE(words.join({"a", "b"}) == "a b");
}

TEST_CASE("text: lower-casing agrees with Unicode on the ranges it claims", "[text][utf8]") {
    REQUIRE(tx::to_lower(U'Z') == U'z');
    REQUIRE(tx::to_lower(0xD7) == 0xD7);    // × is not a letter
    REQUIRE(tx::to_lower(0xDE) == 0xFE);    // Þ → þ
    REQUIRE(tx::to_lower(0x141) == 0x142);  // Ł → ł
    REQUIRE(tx::to_lower(0x17D) == 0x17E);  // Ž → ž
    REQUIRE(tx::to_lower(0x178) == 0xFF);   // Ÿ → ÿ
    REQUIRE(tx::to_lower(0x130) == U'i');   // İ → i
    REQUIRE(tx::to_lower(0x401) == 0x451);  // Ё → ё
    REQUIRE(tx::to_lower(0x42F) == 0x44F);  // Я → я
    REQUIRE(tx::to_lower(0x404) == 0x454);  // Є → є
    REQUIRE(tx::to_lower(0x3A3) == 0x3C3);  // Σ → σ
    REQUIRE(tx::to_lower(0x4E9) == 0x4E9);  // ө already lower
    REQUIRE(tx::to_lower_utf8("ÀÉÎÕÜ") == "àéîõü");
}

TEST_CASE("text: vocabulary orders by frequency, breaks ties by bytes, honours min frequency and max size",
          "[text][vocabulary]") {
    const strings train = {"the cat sat", "the dog sat", "the end", "a cat"};
    const tx::word_tokenizer words;
    SECTION("frequency order with <pad> = 0, <unk> = 1 and ties in byte order") {
        const auto v = tx::build_vocabulary(train, words);
        // the:3, cat:2, sat:2, a:1, dog:1, end:1
        REQUIRE(v.size() == 8);
        REQUIRE(v.token(0) == "<pad>");
        REQUIRE(v.token(1) == "<unk>");
        REQUIRE(v.token(2) == "the");
        REQUIRE(v.token(3) == "cat");
        REQUIRE(v.token(4) == "sat");
        REQUIRE(v.token(5) == "a");
        REQUIRE(v.token(6) == "dog");
        REQUIRE(v.token(7) == "end");
        REQUIRE(v.frequency(2) == 3);
        REQUIRE(v.frequency(0) == 0);
        REQUIRE(v.id("zebra") == tx::vocabulary::unk_id);
        REQUIRE_FALSE(v.contains("zebra"));
        REQUIRE_THROWS_WITH(v.token(8), Contains("token id 8"));
    }
    SECTION("insertion order does not change ids") {
        const strings shuffled = {"a cat", "the end", "the dog sat", "the cat sat"};
        const auto v1 = tx::build_vocabulary(train, words);
        const auto v2 = tx::build_vocabulary(shuffled, words);
        for (std::int32_t i = 0; i < std::int32_t(v1.size()); ++i) REQUIRE(v1.token(i) == v2.token(i));
    }
    SECTION("min frequency") {
        const auto v = tx::build_vocabulary(train, words, {.min_frequency = 2});
        REQUIRE(v.size() == 5);
        REQUIRE(v.token(4) == "sat");
        REQUIRE(v.id("dog") == 1);
    }
    SECTION("max size counts <pad> and <unk>") {
        const auto v = tx::build_vocabulary(train, words, {.min_frequency = 1, .max_size = 4});
        REQUIRE(v.size() == 4);
        REQUIRE(v.token(3) == "cat");
        REQUIRE(v.id("sat") == 1);
        REQUIRE(tx::build_vocabulary(train, words, {.min_frequency = 1, .max_size = 2}).size() == 2);
        REQUIRE_THROWS_AS(tx::build_vocabulary(train, words, {.min_frequency = 1, .max_size = 1}), ctnn::error);
    }
    SECTION("non-ASCII characters") {
        const auto v = tx::build_vocabulary(strings{"ёж ёж", "ёлка"}, tx::char_tokenizer{});
        REQUIRE(v.token(2) == "ё");  // 3 times
        REQUIRE(v.token(3) == "ж");  // 2 times
        REQUIRE(v.token(4) == " ");  // 1 time: ' ' < 'а' < ... in byte order
        REQUIRE(v.token(5) == "а");
        REQUIRE(v.token(6) == "к");
        REQUIRE(v.token(7) == "л");
    }
}

TEST_CASE("text: encode and decode round-trip", "[text][vocabulary]") {
    const strings train = {"Grüße aus Köln", "Привет из Москвы", "hello world"};
    SECTION("characters: known text comes back byte for byte") {
        const tx::char_tokenizer chars;
        const auto v = tx::build_vocabulary(train, chars);
        const std::string s = "Köln, Москвы";
        const auto ids = tx::encode(v, chars, "Köln Москвы");
        REQUIRE(ids.size() == 11);
        REQUIRE(tx::decode(v, chars, ids) == "Köln Москвы");
        const auto with_unknown = tx::encode(v, chars, s);  // ',' was never seen
        REQUIRE(with_unknown[4] == tx::vocabulary::unk_id);
        REQUIRE(tx::decode(v, chars, with_unknown) == "Köln<unk> Москвы");
    }
    SECTION("words: lower-cased words joined by spaces; padding is skipped") {
        const tx::word_tokenizer words;
        const auto v = tx::build_vocabulary(train, words);
        auto ids = tx::encode(v, words, "HELLO, Москвы!");
        REQUIRE(ids.size() == 2);
        REQUIRE(v.token(ids[0]) == "hello");
        ids.push_back(tx::vocabulary::pad_id);
        REQUIRE(tx::decode(v, words, ids) == "hello москвы");
        REQUIRE(v.decode(ids, false).back() == "<pad>");
        REQUIRE_THROWS_AS(v.decode({99}), ctnn::error);
    }
}

TEST_CASE("text: padding and truncation keep the true lengths", "[text][batch]") {
    const std::vector<std::vector<std::int32_t>> seqs = {{5, 6, 7}, {8}, {}, {2, 3, 4, 9, 10}};
    SECTION("keep the front") {
        const auto b = tx::pad_batch(seqs, 4);
        REQUIRE(b.count == 4);
        REQUIRE(b.length == 4);
        REQUIRE(b.ids == std::vector<std::int32_t>{5, 6, 7, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2, 3, 4, 9});
        REQUIRE(b.lengths == std::vector<std::int32_t>{3, 1, 0, 4});
        REQUIRE(b.at(3, 3) == 9);
    }
    SECTION("keep the back, custom pad") {
        const auto b = tx::pad_batch(seqs, 2, tx::truncate_side::keep_back, -1);
        REQUIRE(b.ids == std::vector<std::int32_t>{6, 7, 8, -1, -1, -1, 9, 10});
        REQUIRE(b.lengths == std::vector<std::int32_t>{2, 1, 0, 2});
    }
    SECTION("zero length is an error") { REQUIRE_THROWS_AS(tx::pad_batch(seqs, 0), ctnn::error); }
    SECTION("encode_batch tokenizes, encodes and pads") {
        const tx::word_tokenizer words;
        const auto v = tx::build_vocabulary(strings{"a b c", "a b", "a"}, words);  // a=2 b=3 c=4
        const auto b = tx::encode_batch(v, words, strings{"c b a z", "b"}, 3);
        REQUIRE(b.ids == std::vector<std::int32_t>{4, 3, 2, 3, 0, 0});
        REQUIRE(b.lengths == std::vector<std::int32_t>{3, 1});
    }
}

TEST_CASE("text: the hash split is deterministic and keeps duplicates together", "[text][split]") {
    SECTION("FNV-1a reference values") {
        REQUIRE(tx::fnv1a_64("") == 0xcbf29ce484222325ULL);
        REQUIRE(tx::fnv1a_64("a") == 0xaf63dc4c8601ec8cULL);
        REQUIRE(tx::fnv1a_64("foobar") == 0x85944171f73967e8ULL);
    }
    strings texts;
    for (int i = 0; i < 2000; ++i) texts.push_back("entry number " + std::to_string(i));
    texts.push_back("entry number 7");
    texts.push_back("entry  number\n7 ");  // same entry, other spacing
    const auto s1 = tx::split_by_hash(texts, 0.2);
    const auto s2 = tx::split_by_hash(texts, 0.2);
    REQUIRE(s1.train == s2.train);
    REQUIRE(s1.test == s2.test);
    REQUIRE(s1.train.size() + s1.test.size() == texts.size());
    REQUIRE(s1.test.size() > 320);  // about 400 of 2000 expected; a binomial 5-sigma band
    REQUIRE(s1.test.size() < 480);
    const std::set<std::size_t> test(s1.test.begin(), s1.test.end());
    REQUIRE(test.count(7) == test.count(2000));
    REQUIRE(test.count(7) == test.count(2001));
    const auto other = tx::split_by_hash(texts, 0.2, 12345);
    REQUIRE(other.test != s1.test);
    REQUIRE(tx::split_by_hash(texts, 0.0).test.empty());
    REQUIRE(tx::split_by_hash(texts, 1.0).train.empty());
    REQUIRE_THROWS_AS(tx::split_by_hash(texts, 1.5), ctnn::error);

    tx::labelled_texts data{{"x", "y", "x"}, {0, 1, 2}, {"a", "b", "c"}};
    const auto [train, held] = tx::split_train_test(data, 0.5);
    REQUIRE(train.texts.size() + held.texts.size() == 3);
    const auto& with_x = tx::is_test_text("x", 0.5) ? held : train;
    REQUIRE(std::count(with_x.texts.begin(), with_x.texts.end(), "x") == 2);
    REQUIRE(held.classes == data.classes);
}

TEST_CASE("text: vocabulary save/load round-trips and corrupt files name the line", "[text][vocabulary]") {
    const tx::char_tokenizer chars;
    const auto v = tx::build_vocabulary(strings{"tab\there\nnew\\line ё\r"}, chars);
    const auto p = tmp_path("vocab.txt");
    v.save(p);
    REQUIRE_FALSE(fs::exists(p.string() + ".tmp-" + std::to_string(::getpid())));
    const auto w = tx::vocabulary::load(p);
    REQUIRE(w.size() == v.size());
    for (std::int32_t i = 0; i < std::int32_t(v.size()); ++i) {
        REQUIRE(w.token(i) == v.token(i));
        REQUIRE(w.frequency(i) == v.frequency(i));
    }
    REQUIRE(w.id("\t") == v.id("\t"));
    REQUIRE(w.id("\\") == v.id("\\"));

    const auto bad = tmp_path("bad_vocab.txt");
    auto load_error = [&](const std::string& content) {
        write_bytes(bad, content);
        try {
            tx::vocabulary::load(bad);
        } catch (const ctnn::error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    const std::string head = "ctnn-vocabulary 1 3\n<pad>\t0\n<unk>\t0\n";
    REQUIRE(load_error(head + "cat\t5\n") == "no error");  // the well-formed base loads
    REQUIRE_THAT(load_error(""), Contains(bad.string()) && Contains("line 1"));
    REQUIRE_THAT(load_error("vocab 3\n"), Contains("line 1") && Contains("header"));
    REQUIRE_THAT(load_error(head + "cat 5\n"), Contains("line 4") && Contains("no tab"));
    REQUIRE_THAT(load_error(head + "cat\tfive\n"), Contains("line 4") && Contains("count"));
    REQUIRE_THAT(load_error(head + "c\\qt\t5\n"), Contains("line 4") && Contains("escape"));
    REQUIRE_THAT(load_error(head + "<unk>\t5\n"), Contains("line 4") && Contains("duplicate"));
    REQUIRE_THAT(load_error(head + "\xC3\t5\n"), Contains("line 4") && Contains("UTF-8"));
    REQUIRE_THAT(load_error(head), Contains("line 4") && Contains("ends after 2 of the 3"));
    REQUIRE_THAT(load_error(head + "cat\t5\ndog\t1\n"), Contains("line 5") && Contains("unexpected"));
    REQUIRE_THAT(load_error("ctnn-vocabulary 1 2\n<unk>\t0\n<pad>\t0\n"), Contains("line 2") && Contains("<pad>"));
    REQUIRE_THROWS_WITH(tx::vocabulary::load(tmp_path("missing_vocab.txt")), Contains("missing_vocab.txt"));
}

TEST_CASE("text: the installed Debian fortunes read cleanly (runs only when the packages are installed)",
          "[text][fortune][installed]") {
    const fs::path dir = tx::fortune_default_dir;
    if (!fs::is_regular_file(dir / "computers")) {
        std::cout << "text: installed-fortunes test did not run: " << (dir / "computers").string()
                  << " is absent (install the Debian package `fortunes`, see scripts/install-deps)\n";
        return;
    }
    const auto computers = tx::read_fortunes(dir / "computers");
    INFO("computers entries: " << computers.size());
    REQUIRE(computers.size() > 900);  // 1051 in fortunes 1:1.99.1-7.3
    REQUIRE(computers.size() < 1300);
    const auto topics = tx::read_fortune_topics(dir, {"computers", "people", "politics", "science", "love"});
    REQUIRE(topics.classes.size() == 5);
    std::vector<std::size_t> per(5);
    for (auto l : topics.labels) ++per[std::size_t(l)];
    for (auto n : per) REQUIRE(n > 100);
    const auto [train, test] = tx::split_train_test(topics, 0.1);
    REQUIRE(test.texts.size() > topics.texts.size() / 20);
    REQUIRE(test.texts.size() < topics.texts.size() / 5);
    const tx::word_tokenizer words;
    const auto v = tx::build_vocabulary(train.texts, words, {.min_frequency = 2, .max_size = 10000});
    REQUIRE(v.size() > 3000);
    REQUIRE(v.size() <= 10000);
    REQUIRE(v.token(2) == "the");
    const auto b = tx::encode_batch(v, words, test.texts, 64);
    REQUIRE(b.count == test.texts.size());
    std::size_t unk = 0, total = 0;
    for (std::size_t i = 0; i < b.count; ++i)
        for (std::int32_t t = 0; t < b.lengths[i]; ++t, ++total) unk += b.at(i, std::size_t(t)) == tx::vocabulary::unk_id;
    REQUIRE(double(unk) / double(total) < 0.15);  // held-out text is mostly known words

    // Every other language package installed reads as UTF-8 without error.
    for (const char* lang : {"de", "es", "it", "ru", "pl", "cs"}) {
        if (!fs::is_directory(dir / lang)) {
            std::cout << "text: fortunes-" << lang << " not installed; not checked\n";
            continue;
        }
        const auto all = tx::read_fortune_topics(dir / lang);
        INFO(lang << ": " << all.classes.size() << " files, " << all.texts.size() << " entries");
        REQUIRE(all.classes.size() >= 10);
        REQUIRE(all.texts.size() > 500);
    }
    if (fs::is_directory(dir / "ru")) {
        const auto ru = tx::read_fortune_topics(dir / "ru");
        tx::token_counts counts;
        for (std::size_t i = 0; i < std::min<std::size_t>(ru.texts.size(), 2000); ++i) tx::count_tokens(counts, words(ru.texts[i]));
        REQUIRE(counts.count("и") == 1);  // Cyrillic words were found and lower-cased
        REQUIRE(counts.at("и") > 100);
    }
    if (fs::is_regular_file(dir / "brasil")) REQUIRE(tx::read_fortunes(dir / "brasil").size() > 500);
}
