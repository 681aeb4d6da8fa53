// SPDX-License-Identifier: MIT
// Must not compile: a layer declares scratch_size but its predict does not take the scratch pointer.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
struct needs_scratch {
    template <shape_type In, class T, class P = cpu>
    struct bind : parameter_free {
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "needs_scratch";
        static constexpr std::size_t cache_size = 0;
        static constexpr std::size_t scratch_size(std::size_t batch) noexcept { return batch * In::size; }
        void forward(const T* x, T* y, std::size_t batch, T*, mode, T*) const { predict(x, y, batch); }
        void predict(const T* x, T* y, std::size_t batch) const { std::copy(x, x + batch * In::size, y); }  // no scratch
        void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool, T*) const {
            if (dx) std::copy(dy, dy + batch * In::size, dx);
        }
    };
};
using bad = sequential<input<4>, needs_scratch>;
int main() { bad m; }
