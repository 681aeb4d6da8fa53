// SPDX-License-Identifier: MIT
// The worked example of docs/write_a_layer.md: a layer defined outside the library (my::prelu), tested
// the way the library tests its own — the public gradient checker — and used like any other layer.
#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>
#include <ctnn/testing/gradcheck.hpp>
#include <filesystem>

#include "../../../examples/custom_layer/prelu.hpp"

using namespace ctnn;

TEST_CASE("custom layer: my::prelu passes the public gradient checker, alone and inside blocks", "[custom][gradcheck]") {
    static_assert(check_layer_contract<my::prelu<>::bind<shape<3, 4>, double>>());
    const basic_sequential<double, input<3, 4>, my::prelu<>> alone{seed{1}};
    const auto r1 = testing::check_gradients(alone, 3);
    INFO(r1.message());
    REQUIRE(r1.ok);
    REQUIRE(r1.checked == 4 + 3 * 12);
    const basic_sequential<double, input<6>, dense<5>, my::prelu<0.1>, residual<chain<dense<5>, my::prelu<>>>, dense<2>> stack{seed{2}};
    const auto r2 = testing::check_gradients(stack, 4);
    INFO(r2.message());
    REQUIRE(r2.ok);
}

TEST_CASE("custom layer: my::prelu is named like torch.nn.PReLU and saves/loads", "[custom][io]") {
    using m_t = sequential<input<6>, dense<5>, my::prelu<>, dense<2>>;
    m_t m{seed{3}};
    const auto layout = m.parameter_layout();
    REQUIRE(layout[2].name == "1.weight");
    REQUIRE(layout[2].desc.dims[0] == 5);
    REQUIRE(m.parameter_values()[layout[2].offset] == 0.25f);
    const auto path = std::filesystem::temp_directory_path() / "ctnn_custom_prelu.npz";
    m.parameter_values()[layout[2].offset + 1] = -0.5f;
    save_npz(m, path.string());
    m_t back{seed{9}};
    load_npz(back, path.string());
    std::filesystem::remove(path);
    REQUIRE(back.host_parameters() == m.host_parameters());
}
