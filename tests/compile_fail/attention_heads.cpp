// SPDX-License-Identifier: MIT
// 3 heads cannot split an embedding of 8 features.
#include <ctnn/ctnn.hpp>

using namespace ctnn;

int main() {
    sequential<input<5, 8>, multi_head_attention<3>, flatten, dense<2>> m{seed{1}};
    return int(m.parameter_count);
}
