// SPDX-License-Identifier: MIT
// Must not compile: the main branch makes 8 channels, the identity shortcut keeps 4.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using bad = sequential<input<6, 6, 4>, residual<chain<conv2d<8, 3, {.padding = 1}>>>>;
int main() { bad m; }
