// SPDX-License-Identifier: MIT
// Compile-time tests of the shape algebra and of model shape propagation: this TU compiling is the test.
#include <ctnn/ctnn.hpp>

using namespace ctnn;

static_assert(shape<28, 28, 1>::rank == 3);
static_assert(shape<28, 28, 1>::size == 784);
static_assert(shape<5>::dim<0> == 5);
static_assert(shape<2, 3, 4>::dim<1> == 3);
static_assert(std::is_same_v<shape_cat_t<shape<2>, shape<3, 4>>, shape<2, 3, 4>>);
static_assert(std::is_same_v<flat_t<shape<28, 28, 1>>, shape<784>>);
static_assert(std::is_same_v<with_last_t<shape<8, 16>, 4>, shape<8, 4>>);
static_assert(std::is_same_v<with_last_t<shape<16>, 4>, shape<4>>);
static_assert(last_dim_v<shape<8, 16>> == 16);
static_assert(same_shape_v<shape<2, 3>, shape<2, 3>>);
static_assert(!same_shape_v<shape<2, 3>, shape<3, 2>>);
static_assert(!same_shape_v<shape<6>, shape<2, 3>>);
static_assert(shape_type<shape<1>>);
static_assert(!shape_type<int>);

using mlp = sequential<input<28, 28, 1>, flatten, dense<256>, relu, dense<128>, relu, dense<10>>;
static_assert(std::is_same_v<mlp::input_shape, shape<28, 28, 1>>);
static_assert(std::is_same_v<mlp::output_shape, shape<10>>);
static_assert(std::is_same_v<mlp::layer_type<0>::output_shape, shape<784>>);
static_assert(std::is_same_v<mlp::layer_type<1>::output_shape, shape<256>>);
static_assert(mlp::depth == 6);
static_assert(mlp::parameter_count == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
static_assert(mlp::parameter_offsets[1] == 0 && mlp::parameter_offsets[2] == 784 * 256 + 256);
static_assert(layer<mlp::layer_type<1>>);
static_assert(layer_spec<dense<3>> && layer_spec<relu> && layer_spec<dropout<0.5>> && !layer_spec<int>);

// dense acts on the last dimension, like torch.nn.Linear
using seq = sequential<input<8, 16>, dense<4, false>, reshape<32>, softmax>;
static_assert(std::is_same_v<seq::layer_type<0>::output_shape, shape<8, 4>>);
static_assert(seq::parameter_count == 4 * 16);
static_assert(std::is_same_v<seq::output_shape, shape<32>>);

int ctnn_static_tests_compiled() { return 0; }
