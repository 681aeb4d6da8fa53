// SPDX-License-Identifier: MIT
// Writes a ctnn model (save_npz, deflated and stored), an input and ctnn's outputs into a directory,
// for interop/numpy_reads_ctnn.py to check with numpy alone that names, layouts and values agree.
#include <ctnn/ctnn.hpp>
#include <cstdio>
#include <xtensor/xnpy.hpp>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    using namespace ctnn;
    const std::string dir = argv[1];
    sequential<input<2, 3>, flatten, dense<4>, relu, dense<3>, softmax> m{seed{5}};
    xt::xtensor<float, 3> x({2, 2, 3});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = -1.0f + 2.0f * float(i) / 11.0f;
    save_npz(m, dir + "/model_deflated.npz", true);
    save_npz(m, dir + "/model_stored.npz", false);
    xt::dump_npy(dir + "/input.npy", x);
    xt::dump_npy(dir + "/output.npy", m.predict(x));
    return 0;
}
