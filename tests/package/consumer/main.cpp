// SPDX-License-Identifier: MIT
// A consumer of the installed (or add_subdirectory'd) ctnn: trains XOR and checks it learned it.
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <vector>

int main() {
    using namespace ctnn;
    sequential<input<2>, dense<8, true, initializer::xavier>, ctnn::tanh, dense<1>> m{seed{1}};
    optim::adam o{m.parameters(), {.lr = 0.05}};
    const std::vector<float> x{0, 0, 0, 1, 1, 0, 1, 1}, t{0, 1, 1, 0};
    auto ctx = m.context(4);
    float l = 0;
    for (int i = 0; i < 500; ++i) l = train_step(m, ctx, o, loss::bce_with_logits{}, x, t);
    const auto p = m.predict(x);
    const bool ok = p(0, 0) < 0 && p(1, 0) > 0 && p(2, 0) > 0 && p(3, 0) < 0;
#ifdef CTNN_USE_BLAS
    const char* backend = "gemm backend: cblas";
#else
    const char* backend = "gemm backend: ctnn";
#endif
    std::printf("consumer: XOR loss %.4f, %s; %s\n", l, ok ? "learned" : "NOT learned", backend);
    return ok ? 0 : 1;
}
