// SPDX-License-Identifier: MIT
// Must not compile: a sequential starts with input<...>.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using bad = sequential<dense<3>, relu>;
int main() { bad m; }
