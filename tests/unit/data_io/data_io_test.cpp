// SPDX-License-Identifier: MIT
#include <zlib.h>

#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

using namespace ctnn;
namespace fs = std::filesystem;

namespace {
fs::path tmp(const std::string& name) {
    const auto d = fs::temp_directory_path() / "ctnn_data_io_test";
    fs::create_directories(d);
    return d / name;
}
std::string be32(std::uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }
/// An IDX u8 file image: magic 00 00 08 rank, big-endian dims, payload.
std::string idx_bytes(std::vector<std::uint32_t> dims, const std::string& payload, char type = 0x08) {
    std::string s{0, 0, type, char(dims.size())};
    for (auto d : dims) s += be32(d);
    return s + payload;
}
void write_raw(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}
void write_gz(const fs::path& p, const std::string& bytes) {
    gzFile f = gzopen(p.string().c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size()));
    gzclose(f);
}
std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {(std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()};
}
/// A tiny MNIST-format directory: n images of 4x4 and n labels.
void write_mnist_dir(const fs::path& dir, std::uint32_t n, bool gz, std::uint8_t max_label = 9) {
    fs::create_directories(dir);
    std::string img, lab;
    for (std::uint32_t i = 0; i < n * 16; ++i) img.push_back(char(i % 256));
    for (std::uint32_t i = 0; i < n; ++i) lab.push_back(char(i % (max_label + 1)));
    const std::string ext = gz ? ".gz" : "";
    for (const char* split : {"train", "t10k"}) {
        auto w = gz ? write_gz : write_raw;
        w(dir / (std::string(split) + "-images-idx3-ubyte" + ext), idx_bytes({n, 4, 4}, img));
        w(dir / (std::string(split) + "-labels-idx1-ubyte" + ext), idx_bytes({n}, lab));
    }
}
}  // namespace

TEST_CASE("idx: reads raw and gzip files", "[data][idx]") {
    const std::string payload = "\x01\x02\x03\x04\x05\x06";
    write_raw(tmp("a.idx"), idx_bytes({2, 3}, payload));
    write_gz(tmp("a.idx.gz"), idx_bytes({2, 3}, payload));
    for (const char* f : {"a.idx", "a.idx.gz"}) {
        const auto a = data::read_idx(tmp(f));
        REQUIRE(a.type == data::idx_type::u8);
        REQUIRE(a.dims == std::vector<std::size_t>{2, 3});
        REQUIRE(std::string(a.bytes.begin(), a.bytes.end()) == payload);
    }
}

TEST_CASE("idx: bad files throw ctnn::error naming the file and the problem", "[data][idx][bad-input]") {
    SECTION("missing") { REQUIRE_THROWS_WITH(data::read_idx(tmp("none.idx")), Catch::Contains("none.idx") && Catch::Contains("no such file")); }
    SECTION("wrong magic") {
        write_raw(tmp("magic.idx"), "\x12\x34\x08\x01" + be32(1) + "x");
        REQUIRE_THROWS_WITH(data::read_idx(tmp("magic.idx")), Catch::Contains("magic.idx") && Catch::Contains("wrong magic"));
    }
    SECTION("unknown element type") {
        write_raw(tmp("type.idx"), idx_bytes({1}, "x", 0x07));
        REQUIRE_THROWS_WITH(data::read_idx(tmp("type.idx")), Catch::Contains("wrong magic"));
    }
    SECTION("truncated payload, raw and gzip") {
        write_raw(tmp("trunc.idx"), idx_bytes({10, 10}, std::string(50, 'a')));
        REQUIRE_THROWS_WITH(data::read_idx(tmp("trunc.idx")), Catch::Contains("truncated") && Catch::Contains("100"));
        write_gz(tmp("trunc.idx.gz"), idx_bytes({10, 10}, std::string(50, 'a')));
        REQUIRE_THROWS_WITH(data::read_idx(tmp("trunc.idx.gz")), Catch::Contains("truncated"));
    }
    SECTION("truncated header") {
        write_raw(tmp("hdr.idx"), std::string("\0\0\x08\x03", 4) + be32(5));
        REQUIRE_THROWS_WITH(data::read_idx(tmp("hdr.idx")), Catch::Contains("dimension list"));
        write_raw(tmp("short.idx"), std::string("\0\0", 2));
        REQUIRE_THROWS_WITH(data::read_idx(tmp("short.idx")), Catch::Contains("magic"));
    }
    SECTION("absurd dimensions are refused without allocating them") {
        write_raw(tmp("huge.idx"), idx_bytes({0xffffffffu, 0xffffffffu, 0xffffffffu}, "abc"));
        REQUIRE_THROWS_WITH(data::read_idx(tmp("huge.idx")), Catch::Contains("refusing"));
        // a plausible-but-large header with little data fails on truncation after reading what exists
        write_raw(tmp("big.idx"), idx_bytes({100000, 28, 28}, std::string(1000, 'a')));
        REQUIRE_THROWS_WITH(data::read_idx(tmp("big.idx")), Catch::Contains("truncated"));
    }
    SECTION("zero dimension, trailing bytes, corrupt gzip") {
        write_raw(tmp("zero.idx"), idx_bytes({0}, ""));
        REQUIRE_THROWS_WITH(data::read_idx(tmp("zero.idx")), Catch::Contains("zero dimension"));
        write_raw(tmp("trail.idx"), idx_bytes({2}, "abc"));
        REQUIRE_THROWS_WITH(data::read_idx(tmp("trail.idx")), Catch::Contains("trailing bytes"));
        write_gz(tmp("corrupt.idx.gz"), idx_bytes({100}, std::string(100, 'z')));
        auto bytes = slurp(tmp("corrupt.idx.gz"));
        for (std::size_t i = 12; i < bytes.size() - 8; ++i) bytes[i] = char(bytes[i] ^ 0x5a);
        write_raw(tmp("corrupt.idx.gz"), bytes);
        REQUIRE_THROWS_AS(data::read_idx(tmp("corrupt.idx.gz")), ctnn::error);
    }
}

TEST_CASE("mnist loader: reads a directory of raw or .gz files, scales to [0, 1]", "[data][mnist]") {
    for (bool gz : {false, true}) {
        const auto dir = tmp(gz ? "mnist_gz" : "mnist_raw");
        write_mnist_dir(dir, 20, gz);
        const auto s = data::fashion_mnist::load(dir.string());
        REQUIRE(s.train.count == 20);
        REQUIRE(s.test.count == 20);
        REQUIRE(s.train.sample_size == 16);
        REQUIRE(s.train.x[1] == Approx(1.0 / 255));
        REQUIRE(s.train.labels[13] == 3);
    }
}

TEST_CASE("mnist loader: missing files, bad labels and count mismatches are reported", "[data][mnist][bad-input]") {
    REQUIRE_THROWS_WITH(data::fashion_mnist::load(tmp("empty_dir").string()),
                        Catch::Contains("train-images-idx3-ubyte") && Catch::Contains("not found"));
    const auto dir = tmp("mnist_badlabel");
    write_mnist_dir(dir, 20, false, 11);
    REQUIRE_THROWS_WITH(data::fashion_mnist::load(dir.string()), Catch::Contains("label 10"));
    const auto dir2 = tmp("mnist_mismatch");
    write_mnist_dir(dir2, 20, false);
    write_raw(dir2 / "train-labels-idx1-ubyte", idx_bytes({19}, std::string(19, '\1')));
    REQUIRE_THROWS_WITH(data::fashion_mnist::load(dir2.string()), Catch::Contains("20 images") && Catch::Contains("19 labels"));
    write_raw(dir2 / "train-labels-idx1-ubyte", idx_bytes({20, 1}, std::string(20, '\1')));
    REQUIRE_THROWS_WITH(data::fashion_mnist::load(dir2.string()), Catch::Contains("u8 labels [n]"));
}

TEST_CASE("mnist loader: real Fashion-MNIST from Debian's dataset-fashion-mnist", "[data][mnist][real]") {
    if (!fs::exists(fs::path(data::fashion_mnist_default_dir) / "train-labels-idx1-ubyte.gz")) {
        WARN("dataset-fashion-mnist is not installed; scripts/install-deps installs it");
        REQUIRE(false);
    }
    const auto s = data::fashion_mnist::load(data::fashion_mnist_default_dir);
    REQUIRE(s.train.count == 60000);
    REQUIRE(s.test.count == 10000);
    REQUIRE(s.train.sample_size == 784);
    std::vector<int> per_class(10, 0);
    for (auto l : s.train.labels) ++per_class[std::size_t(l)];
    for (int c : per_class) REQUIRE(c == 6000);  // Fashion-MNIST is balanced
    const auto [mean, sd] = s.train.mean_std();
    REQUIRE(mean == Approx(0.2860).margin(0.001));  // the published pixel mean
    REQUIRE(sd == Approx(0.3530).margin(0.001));
}

TEST_CASE("loader: every sample once per epoch, seeded shuffles, last partial batch", "[data][loader]") {
    auto d = data::dataset<float>::zeros(10, 2, 10);
    for (std::size_t i = 0; i < 20; ++i) d.x[i] = float(i / 2);
    d.labels = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    REQUIRE(d.targets.empty());
    auto epoch = [](data::loader<float>& l) {
        std::vector<int> seen;
        std::vector<std::size_t> sizes;
        data::batch<float> b;
        while (l.next(b)) {
            sizes.push_back(b.size);
            for (std::size_t i = 0; i < b.size; ++i) {
                REQUIRE(b.x.data()[2 * i] == float(b.labels.data()[i]));
                seen.push_back(b.labels.data()[i]);
            }
        }
        return std::pair{seen, sizes};
    };
    data::loader<float> a(d, 4, true, seed{1}), b(d, 4, true, seed{1});
    REQUIRE(a.batches() == 3);
    const auto [s1, z1] = epoch(a);
    REQUIRE(z1 == std::vector<std::size_t>{4, 4, 2});
    REQUIRE(std::set<int>(s1.begin(), s1.end()).size() == 10);
    REQUIRE(epoch(b).first == s1);
    a.start_epoch();
    REQUIRE(epoch(a).first != s1);  // reshuffled
    data::loader<float> plain(d, 4, false, seed{0}, true);
    REQUIRE(plain.batches() == 2);
    const auto [s2, z2] = epoch(plain);
    REQUIRE(z2 == std::vector<std::size_t>{4, 4});
    REQUIRE(s2 == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
    REQUIRE_THROWS_AS(data::loader<float>(d, 0), ctnn::error);
}

TEST_CASE("dataset: normalize, mean_std and slice", "[data][dataset]") {
    auto d = data::dataset<float>::zeros(4, 1, 2);
    for (int i = 0; i < 4; ++i) d.x[i] = float(i);
    d.labels = {0, 1, 0, 1};
    const auto [m, s] = d.mean_std();
    REQUIRE(m == Approx(1.5));
    REQUIRE(s == Approx(std::sqrt(1.25)));
    d.normalize(m, s);
    const auto [m2, s2] = d.mean_std();
    REQUIRE(m2 == Approx(0.0).margin(1e-6));
    REQUIRE(s2 == Approx(1.0));
    const auto sl = d.slice(1, 3);
    REQUIRE(sl.count == 2);
    REQUIRE(sl.labels == std::vector<std::int32_t>{1, 0});
    REQUIRE_THROWS_AS(d.slice(3, 5), ctnn::error);
    REQUIRE_THROWS_AS(d.normalize(0, 0), ctnn::error);
}

TEST_CASE("metrics: confusion matrix, accuracy, per-class and macro precision/recall/F1", "[metrics]") {
    metrics::confusion_matrix cm(3);
    // label -> predicted
    const int pairs[][2] = {{0, 0}, {0, 0}, {0, 1}, {1, 1}, {1, 1}, {1, 2}, {2, 2}, {2, 0}};
    for (auto& p : pairs) cm.add(std::size_t(p[0]), std::size_t(p[1]));
    REQUIRE(cm.total() == 8);
    REQUIRE(cm(0, 1) == 1);
    REQUIRE(cm.accuracy() == Approx(5.0 / 8));
    REQUIRE(cm.precision(0) == Approx(2.0 / 3));
    REQUIRE(cm.recall(0) == Approx(2.0 / 3));
    REQUIRE(cm.precision(2) == Approx(1.0 / 2));
    REQUIRE(cm.recall(2) == Approx(1.0 / 2));
    REQUIRE(cm.f1(1) == Approx(2.0 / 3));
    REQUIRE(cm.macro_precision() == Approx((2.0 / 3 + 2.0 / 3 + 0.5) / 3));
    REQUIRE(cm.macro_f1() == Approx((2.0 / 3 + 2.0 / 3 + 0.5) / 3));
    REQUIRE_THROWS_AS(cm.add(3, 0), ctnn::error);
    // batches of logits and single-output logits
    metrics::confusion_matrix c2(2);
    const float logits[] = {0.1f, 0.9f, 2.0f, -1.0f};
    const int labels[] = {1, 1};
    metrics::accumulate(c2, logits, labels, 2, 2);
    REQUIRE(c2(1, 1) == 1);
    REQUIRE(c2(1, 0) == 1);
    const float single[] = {0.7f, 0.2f};
    metrics::confusion_matrix c3(2);
    metrics::accumulate(c3, single, labels, 2, 1, 0.5f);
    REQUIRE(c3.recall(1) == Approx(0.5));
    metrics::confusion_matrix empty(2);
    REQUIRE(empty.accuracy() == 0.0);
    REQUIRE(empty.f1(0) == 0.0);
}

// ---- npz ----
namespace {
std::map<std::string, io::npy_array> sample_arrays() {
    io::npy_array a{"<f4", {2, 3}, {}}, b{"<f8", {4}, {}}, c{"<i8", {}, {}};
    const float av[6] = {1, 2, 3, 4, 5, 6};
    const double bv[4] = {0.5, -1, 2, 1e300};
    const std::int64_t cv = 42;
    a.data.assign(reinterpret_cast<const char*>(av), sizeof av);
    b.data.assign(reinterpret_cast<const char*>(bv), sizeof bv);
    c.data.assign(reinterpret_cast<const char*>(&cv), sizeof cv);
    return {{"a", a}, {"layer.0.b", b}, {"scalar", c}};
}
}  // namespace

TEST_CASE("npz: round trip, stored and deflated", "[io][npz]") {
    const auto arrays = sample_arrays();
    for (bool z : {false, true}) {
        const auto p = tmp(z ? "rt_z.npz" : "rt.npz");
        io::write_npz(p, arrays, z);
        const auto back = io::read_npz(p);
        REQUIRE(back.size() == 3);
        for (const auto& [k, v] : arrays) {
            REQUIRE(back.at(k).dtype == v.dtype);
            REQUIRE(back.at(k).shape == v.shape);
            REQUIRE(back.at(k).data == v.data);
        }
    }
}

TEST_CASE("npz: reads archives written by numpy (np.savez and np.savez_compressed)", "[io][npz][numpy]") {
    // tests/data/torch_reference.npz was written by np.savez from tools/export_torch_reference.py
    const auto r = io::read_npz(CTNN_TEST_DATA_DIR "/torch_reference.npz");
    REQUIRE(r.at("init.0.weight").shape == std::vector<std::size_t>{4, 5});
    REQUIRE(r.at("init.0.weight").dtype == "<f8");
    REQUIRE(r.at("labels").dtype == "<i8");
    REQUIRE(r.at("loss").shape == std::vector<std::size_t>{1});
}

TEST_CASE("npz: corrupt archives throw ctnn::error naming file and entry", "[io][npz][bad-input]") {
    const auto good = tmp("good.npz");
    io::write_npz(good, sample_arrays(), true);
    const std::string bytes = slurp(good);
    auto bad = [&](const std::string& name, std::string content) {
        write_raw(tmp(name), content);
        return tmp(name);
    };
    SECTION("truncated anywhere") {
        for (std::size_t cut : {std::size_t(0), std::size_t(10), bytes.size() / 2, bytes.size() - 1})
            REQUIRE_THROWS_AS(io::read_npz(bad("trunc.npz", bytes.substr(0, cut))), ctnn::error);
    }
    SECTION("not a zip") { REQUIRE_THROWS_WITH(io::read_npz(bad("text.npz", std::string(100, 'x'))), Catch::Contains("not a zip")); }
    SECTION("flipped payload byte fails the CRC or inflate") {
        std::string b = bytes;
        b[60] = char(b[60] ^ 0xff);
        REQUIRE_THROWS_AS(io::read_npz(bad("crc.npz", b)), ctnn::error);
    }
    SECTION("absurd uncompressed size is refused before allocating") {
        std::string b = bytes;
        const auto cd = b.find("PK\x01\x02");
        for (int i = 0; i < 4; ++i) b[cd + 24 + i] = char(0xfe);  // ~4 GB uncompressed
        REQUIRE_THROWS_WITH(io::read_npz(bad("absurd.npz", b)), Catch::Contains("impossible size"));
    }
    SECTION("zip64 markers are reported as unsupported") {
        std::string b = bytes;
        const auto cd = b.find("PK\x01\x02");
        for (int i = 0; i < 4; ++i) b[cd + 20 + i] = char(0xff);
        REQUIRE_THROWS_WITH(io::read_npz(bad("zip64.npz", b)), Catch::Contains("zip64"));
    }
    SECTION("bad .npy inside: magic, header, payload size") {
        io::write_npz(tmp("stored.npz"), sample_arrays(), false);
        const std::string s = slurp(tmp("stored.npz"));
        std::string b = s;
        b[b.find("\x93NUMPY") + 1] = 'X';
        // CRC now fails first; rebuild a consistent archive with a broken header through the writer instead
        REQUIRE_THROWS_AS(io::read_npz(bad("npymagic.npz", b)), ctnn::error);
        REQUIRE_THROWS_WITH(io::detail::decode_npy("\x93NUMPX\x01\x00\x00\x00", "f", "e"), Catch::Contains("wrong magic"));
        io::npy_array a{"<f4", {2, 3}, std::string(20, '\0')};  // 6 floats need 24 bytes
        REQUIRE_THROWS_WITH(io::detail::decode_npy(io::detail::encode_npy(a), "f", "e"), Catch::Contains("need 24 bytes, entry has 20"));
        io::npy_array c{"<c8", {1}, std::string(8, '\0')};
        REQUIRE_THROWS_WITH(io::detail::decode_npy(io::detail::encode_npy(c), "f", "e"), Catch::Contains("unsupported dtype"));
        io::npy_array h{"<f4", {99999999999ull, 99999999999ull}, {}};
        REQUIRE_THROWS_WITH(io::detail::decode_npy(io::detail::encode_npy(h), "f", "e"), Catch::Contains("absurd"));
        std::string fortran = io::detail::encode_npy(io::npy_array{"<f4", {1}, std::string(4, '\0')});
        fortran.replace(fortran.find("False"), 5, "True ");
        REQUIRE_THROWS_WITH(io::detail::decode_npy(fortran, "f", "e"), Catch::Contains("Fortran"));
    }
    SECTION("missing file") { REQUIRE_THROWS_WITH(io::read_npz(tmp("absent.npz")), Catch::Contains("cannot open")); }
}

TEST_CASE("atomic writes: a failed write leaves the old file intact", "[io][atomic]") {
    const auto p = tmp("atomic.txt");
    io::write_file_atomic(p, "first");
    REQUIRE(slurp(p) == "first");
    io::write_file_atomic(p, "second");
    REQUIRE(slurp(p) == "second");
    REQUIRE_THROWS_WITH(io::write_file_atomic(tmp("no_such_dir") / "x.npz", "data"), Catch::Contains("cannot write"));
    for (const auto& e : fs::directory_iterator(p.parent_path()))
        REQUIRE(e.path().filename().string().find(".tmp-") == std::string::npos);
}

namespace {
/// Writes CIFAR-10 binary records: label, then the planar R, G, B bytes of a 32×32 image whose value
/// at (channel c, pixel p) is (label + c + p) mod 256.
void write_cifar(const fs::path& p, const std::vector<int>& labels, std::size_t truncate = 0) {
    std::string bytes;
    for (int l : labels) {
        bytes.push_back(char(l));
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t px = 0; px < 1024; ++px) bytes.push_back(char((std::size_t(l) + c + px) % 256));
    }
    bytes.resize(bytes.size() - truncate);
    std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}
}  // namespace

TEST_CASE("cifar10: reads the binary format into NHWC [0, 1]; bad files are reported", "[data][cifar10][bad-input]") {
    const auto dir = fs::temp_directory_path() / "ctnn_cifar_test";
    fs::create_directories(dir);
    for (int b = 1; b <= 5; ++b) write_cifar(dir / ("data_batch_" + std::to_string(b) + ".bin"), {b, 9});
    write_cifar(dir / "test_batch.bin", {3});
    const auto s = data::cifar10::load(dir.string());
    REQUIRE(s.train.count == 10);
    REQUIRE(s.test.count == 1);
    REQUIRE(s.train.sample_size == 32 * 32 * 3);
    REQUIRE(s.train.labels[0] == 1);
    REQUIRE(s.train.labels[9] == 9);
    // NHWC: pixel p, channel c of record 0 (label 1) holds (1 + c + p) / 255
    for (std::size_t p : {std::size_t(0), std::size_t(33), std::size_t(1023)})
        for (std::size_t c = 0; c < 3; ++c) REQUIRE(s.train.x[p * 3 + c] == Approx(float((1 + c + p) % 256) / 255.0f));
    write_cifar(dir / "short.bin", {1, 2}, 100);
    REQUIRE_THROWS_WITH(data::cifar10::read_batch(dir / "short.bin"),
                        Catch::Contains("short.bin") && Catch::Contains("not a positive multiple of the 3073-byte record"));
    write_cifar(dir / "label.bin", {4, 12});
    REQUIRE_THROWS_WITH(data::cifar10::read_batch(dir / "label.bin"), Catch::Contains("label 12 in record 1"));
    REQUIRE_THROWS_WITH(data::cifar10::read_batch(dir / "missing.bin"), Catch::Contains("cannot open") && Catch::Contains("missing.bin"));
    fs::remove(dir / "data_batch_3.bin");
    REQUIRE_THROWS_WITH(data::cifar10::load(dir.string()), Catch::Contains("data_batch_3.bin"));
    fs::remove_all(dir);
}

TEST_CASE("augment: random crop shifts with zero fill, flips mirror, normalisation per channel; all seeded",
          "[data][augment]") {
    const data::image_shape s{4, 5, 2};
    std::vector<float> img(2 * s.size());
    for (std::size_t i = 0; i < img.size(); ++i) img[i] = float(i + 1);
    // the crop draws dy then dx per image from its generator: replay them to predict the result
    auto x = img;
    data::random_crop<> crop(s, 2, seed{5});
    crop(x.data(), 2);
    rng replay{seed{5}};
    for (std::size_t n = 0; n < 2; ++n) {
        const long dy = long(replay.below(5)) - 2, dx = long(replay.below(5)) - 2;
        for (std::size_t y = 0; y < 4; ++y)
            for (std::size_t xx = 0; xx < 5; ++xx)
                for (std::size_t c = 0; c < 2; ++c) {
                    const long sy = long(y) + dy, sx = long(xx) + dx;
                    const float want = (sy < 0 || sy >= 4 || sx < 0 || sx >= 5) ? 0.0f
                                                                                 : img[n * s.size() + (std::size_t(sy) * 5 + std::size_t(sx)) * 2 + c];
                    REQUIRE(x[n * s.size() + (y * 5 + xx) * 2 + c] == want);
                }
    }
    auto f = img;
    data::horizontal_flip<> always(s, 1.0, seed{1});
    always(f.data(), 2);
    REQUIRE(f[0] == img[(0 * 5 + 4) * 2 + 0]);  // (y 0, x 0) <- (y 0, x 4)
    REQUIRE(f[3] == img[(0 * 5 + 3) * 2 + 1]);
    always(f.data(), 2);
    REQUIRE(f == img);
    auto twice = img, again = img;
    auto pipeline = data::compose(data::random_crop<>(s, 1, seed{7}), data::horizontal_flip<>(s, 0.5, seed{8}));
    auto pipeline2 = data::compose(data::random_crop<>(s, 1, seed{7}), data::horizontal_flip<>(s, 0.5, seed{8}));
    pipeline(twice.data(), 2);
    pipeline2(again.data(), 2);
    REQUIRE(twice == again);  // same seeds, same result
    std::vector<float> v{1, 10, 3, 30};
    data::normalize_channels<>({1, 10}, {2, 5}).apply(v.data(), v.size());
    REQUIRE(v == std::vector<float>{0, 0, 1, 4});
    REQUIRE_THROWS_AS(data::normalize_channels<>({1, 2}, {1}), ctnn::error);
}

TEST_CASE("dataset: select_classes relabels in the given order and caps each class", "[data][dataset]") {
    auto d = data::dataset<float>::zeros(6, 1, 10);
    const std::int32_t labels[] = {0, 6, 3, 6, 0, 0};
    for (std::size_t i = 0; i < 6; ++i) {
        d.labels[i] = labels[i];
        d.x[i] = float(i);
    }
    const auto pair = d.select_classes({0, 6}, 2);
    REQUIRE(pair.count == 4);
    REQUIRE(pair.classes == 2);
    REQUIRE(pair.labels == std::vector<std::int32_t>{0, 1, 1, 0});
    REQUIRE(pair.x[3] == 4.0f);
    REQUIRE(d.select_classes({3}).count == 1);
}
