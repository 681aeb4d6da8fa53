// SPDX-License-Identifier: MIT
// Must not compile: node 2 reads id 3, a node that comes after it.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using bad = graph<inputs<input<4>, input<4>>, node<from<3>, dense<2>>, node<from<1>, dense<2>>, outputs<2>>;
int main() { bad m; }
