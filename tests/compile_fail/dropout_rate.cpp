// SPDX-License-Identifier: MIT
// Must not compile: a dropout rate of 1.5.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using bad = sequential<input<4>, dropout<1.5>>;
int main() { bad m; }
