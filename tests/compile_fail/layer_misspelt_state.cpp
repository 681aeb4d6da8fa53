// SPDX-License-Identifier: MIT
// Must not compile: a layer declares states but misspells attach_state, which would otherwise silently
// leave its running statistics unbound.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
struct counter {
    template <shape_type In, class T, class P = cpu>
    struct bind : parameter_free {
        using value_type = T;
        using input_shape = In;
        using output_shape = In;
        static constexpr std::string_view name = "counter";
        static constexpr std::size_t cache_size = 0;
        static constexpr std::size_t state_count = 1;
        static constexpr std::array<param_desc, 1> states() noexcept { return {param_desc{"count", {}, 0}}; }
        void attach_states(T* s) noexcept { m_count = s; }  // misspelt: attach_state
        void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
        void predict(const T* x, T* y, std::size_t batch) const { std::copy(x, x + batch * In::size, y); }
        void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool) const {
            if (dx) std::copy(dy, dy + batch * In::size, dx);
        }
        T* m_count = nullptr;
    };
};
using bad = sequential<input<4>, dense<3>, counter>;
int main() { bad m; }
