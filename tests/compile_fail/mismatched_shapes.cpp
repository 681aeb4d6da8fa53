// SPDX-License-Identifier: MIT
// Must not compile: dense<10> outputs 10 values, reshape<3, 3> wants 9.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using bad = sequential<input<784>, dense<10>, reshape<3, 3>>;
int main() { bad m; }
