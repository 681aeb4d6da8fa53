// SPDX-License-Identifier: MIT
// Must not compile: int is not a layer spec.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using bad = sequential<input<4>, dense<3>, int>;
int main() { bad m; }
