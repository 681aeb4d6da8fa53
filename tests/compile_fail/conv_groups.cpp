// SPDX-License-Identifier: MIT
// Must not compile: 6 input channels cannot be split into 4 groups.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using bad = sequential<input<5, 5, 6>, conv2d<8, 3, {.groups = 4}>>;
int main() { bad m; }
