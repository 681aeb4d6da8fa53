// SPDX-License-Identifier: MIT
// The generative examples' PNG grids and CSV histories (examples/common/generative.hpp): written with
// stb_image_write, read back here with stb_image (both from Debian's libstb-dev).
// And score_samples's Fréchet distance (examples/common/frechet.hpp) against closed forms.
#include <stb_image.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../../../examples/common/frechet.hpp"
#include "../../../examples/common/generative.hpp"

namespace fs = std::filesystem;
using example::gen::history;
using example::gen::write_png_grid;

namespace {
struct png {
    int w = 0, h = 0, c = 0;
    std::vector<unsigned char> px;
};
png read_png(const fs::path& p) {
    png r;
    unsigned char* data = stbi_load(p.c_str(), &r.w, &r.h, &r.c, 0);
    REQUIRE(data != nullptr);
    r.px.assign(data, data + std::size_t(r.w) * r.h * r.c);
    stbi_image_free(data);
    return r;
}
}  // namespace

TEST_CASE("write_png_grid: tiles, scales, clamps and zooms images into a PNG that reads back", "[png][generative]") {
    const auto dir = fs::temp_directory_path() / "ctnn_png_test";
    fs::create_directories(dir);
    // three 2×3 grey images in [-1, 1]: a constant -1, a constant 1 and a ramp with values outside the range
    std::vector<float> img(3 * 6);
    for (int i = 0; i < 6; ++i) {
        img[i] = -1;
        img[6 + i] = 1;
        img[12 + i] = -2.0f + 0.8f * float(i);  // -2 (clamped to 0), -1.2, -0.4, 0.4, 1.2, 2 (clamped to 255)
    }
    write_png_grid(dir / "grid.png", img.data(), 3, 2, 3, 1, 2, -1, 1, 2);
    const auto p = read_png(dir / "grid.png");
    // 2 columns, 2 rows of (3·2 + 2) × (2·2 + 2) cells plus a 2-pixel border
    REQUIRE(p.c == 1);
    REQUIRE(p.w == 2 * (3 * 2 + 2) + 2);
    REQUIRE(p.h == 2 * (2 * 2 + 2) + 2);
    const auto at = [&](int x, int y) { return int(p.px[std::size_t(y) * p.w + x]); };
    REQUIRE(at(0, 0) == 128);                     // the gap
    REQUIRE(at(2, 2) == 0);                       // image 0: -1 → 0
    REQUIRE(at(2 + 8, 2) == 255);                 // image 1: 1 → 255
    REQUIRE(at(2 + 8 + 5, 2 + 3) == 255);         // its zoomed corner
    REQUIRE(at(2, 2 + 6) == 0);                   // image 2, pixel 0: -2 clamped
    REQUIRE(at(2 + 2, 2 + 6) == 0);               // pixel 1: -1.2 clamped
    REQUIRE(at(2 + 4, 2 + 6) == 77);              // pixel 2: -0.4 → 0.3·255 = 76.5 → 77
    REQUIRE(at(2 + 4, 2 + 6 + 2) == 255);         // pixel 5 (row 1, column 2): 2 clamped
    REQUIRE(at(2 + 8, 2 + 6) == 128);             // the empty fourth cell stays grey
    // RGB
    std::vector<float> rgb{0, 0.5f, 1, 1, 0.5f, 0};
    write_png_grid(dir / "rgb.png", rgb.data(), 2, 1, 1, 3, 2, 0, 1);
    const auto q = read_png(dir / "rgb.png");
    REQUIRE(q.c == 3);
    REQUIRE(q.px[(2 * q.w + 2) * 3 + 0] == 0);
    REQUIRE(q.px[(2 * q.w + 2) * 3 + 1] == 128);
    REQUIRE(q.px[(2 * q.w + 2) * 3 + 2] == 255);
    // bad geometry is an error naming the file; nothing is written
    REQUIRE_THROWS_WITH(write_png_grid(dir / "bad.png", rgb.data(), 2, 1, 1, 2, 2, 0, 1), Catch::Contains("bad.png"));
    REQUIRE_THROWS_WITH(write_png_grid(dir / "bad.png", rgb.data(), 0, 1, 1, 1, 2, 0, 1), Catch::Contains("write_png_grid"));
    REQUIRE_THROWS(write_png_grid(dir / "bad.png", rgb.data(), 2, 1, 1, 1, 2, 1, 1));  // empty range
    REQUIRE_FALSE(fs::exists(dir / "bad.png"));
    // an unwritable place is a ctnn::error, not a crash
    REQUIRE_THROWS_AS(write_png_grid(dir / "no" / "such" / "dir.png", img.data(), 1, 2, 3, 1, 1, -1, 1), ctnn::error);
    for (const auto& e : fs::directory_iterator(dir))  // atomic writes leave no temporaries
        REQUIRE((e.path().filename() == "grid.png" || e.path().filename() == "rgb.png"));
    fs::remove_all(dir);
}

TEST_CASE("history: a CSV with a header, one row per add, empty cells for non-finite values", "[history][generative]") {
    const auto file = fs::temp_directory_path() / "ctnn_history_test.csv";
    history h{file, {"epoch", "loss", "kl"}};
    h.add({1, 0.5, 2});
    h.add({2, 0.25, std::nan("")});
    h.save();
    std::ifstream in(file);
    std::stringstream s;
    s << in.rdbuf();
    REQUIRE(s.str() == "epoch,loss,kl\n1,0.5,2\n2,0.25,\n");
    REQUIRE_THROWS_WITH(h.add({3, 1}), Catch::Contains("a row of 2 values for 3 columns"));
    history none{"", {"x"}};
    none.add({1});
    none.save();  // no path: nothing written, no error
    fs::remove(file);
}

TEST_CASE("frechet_distance: closed forms (equal, commuting and 1-D Gaussians); fit_gaussian", "[frechet][generative]") {
    using example::gaussian;
    constexpr std::size_t n = 6;
    // an orthogonal Q: a product of Givens rotations
    std::vector<double> q(n * n, 0.0);
    for (std::size_t i = 0; i < n; ++i) q[i * n + i] = 1;
    for (std::size_t p = 0; p + 1 < n; ++p) {
        const double c = std::cos(0.3 + double(p)), s = std::sin(0.3 + double(p));
        for (std::size_t r = 0; r < n; ++r) {
            const double a = q[r * n + p], b = q[r * n + p + 1];
            q[r * n + p] = c * a - s * b;
            q[r * n + p + 1] = s * a + c * b;
        }
    }
    const auto with_eigenvalues = [&](const std::vector<double>& l) {
        gaussian g{n, std::vector<double>(n), std::vector<double>(n * n, 0.0)};
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j)
                for (std::size_t k = 0; k < n; ++k) g.cov[i * n + j] += q[i * n + k] * l[k] * q[j * n + k];
        return g;
    };
    const std::vector<double> la{0.5, 1, 2, 3, 0.1, 4}, lb{1, 1, 0.5, 2, 0.2, 9};
    auto a = with_eigenvalues(la), b = with_eigenvalues(lb);
    REQUIRE(std::abs(example::frechet_distance(a, a)) < 1e-9);
    double want = 0;
    for (std::size_t i = 0; i < n; ++i) {
        b.mean[i] = 0.1 * double(i);
        want += b.mean[i] * b.mean[i] + (std::sqrt(la[i]) - std::sqrt(lb[i])) * (std::sqrt(la[i]) - std::sqrt(lb[i]));
    }
    REQUIRE(example::frechet_distance(a, b) == Approx(want).epsilon(1e-10));
    REQUIRE(example::frechet_distance(b, a) == Approx(want).epsilon(1e-10));
    // 1-D: (μ1 - μ2)² + (σ1 - σ2)²; fit_gaussian's unbiased variance
    const auto g1 = example::fit_gaussian({1, 2, 3, 4}, 1), g2 = example::fit_gaussian({0, 4}, 1);
    REQUIRE(g1.mean[0] == 2.5);
    REQUIRE(g1.cov[0] == Approx(5.0 / 3));
    REQUIRE(g2.cov[0] == Approx(8.0));
    REQUIRE(example::frechet_distance(g1, g2) ==
            Approx(0.25 + (std::sqrt(5.0 / 3) - std::sqrt(8.0)) * (std::sqrt(5.0 / 3) - std::sqrt(8.0))).epsilon(1e-12));
    REQUIRE_THROWS_WITH(example::fit_gaussian({1, 2, 3}, 3), Catch::Contains("at least two rows"));
    REQUIRE_THROWS_WITH(example::frechet_distance(g1, a), Catch::Contains("1 and 6 dimensions"));
}
