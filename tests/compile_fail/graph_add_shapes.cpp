// SPDX-License-Identifier: MIT
// Must not compile: add_of merges an id of 3 features with one of 4.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using bad = graph<inputs<input<4>>, node<from<0>, dense<3>>, node<from<0>, dense<4>>, node<add_of<1, 2>, dense<2>>, outputs<3>>;
int main() { bad m; }
