// SPDX-License-Identifier: MIT
// Must not compile: a 5x5 kernel on a 3x3 image without padding.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using bad = sequential<input<3, 3, 1>, conv2d<4, 5>>;
int main() { bad m; }
