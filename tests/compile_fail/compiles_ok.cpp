// SPDX-License-Identifier: MIT
// Control for the compile-fail harness: valid code, so the harness must report failure (WILL_FAIL).
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using good = sequential<input<4>, dense<3>, relu>;
int main() { good m; }
