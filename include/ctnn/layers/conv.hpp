// SPDX-License-Identifier: MIT
#pragma once
/// @file conv.hpp  2-D convolution and pooling on NHWC samples (shape<H, W, C>), PyTorch semantics:
/// conv2d (stride, zero padding, dilation, groups, optional bias; weight [F, C/groups, KH, KW] as
/// nn.Conv2d), conv_transpose2d (nn.ConvTranspose2d), max_pool2d, avg_pool2d (count_include_pad), global_avg_pool2d.
#include <array>
#include <cstddef>
#include <span>

#include "../backend/buffer.hpp"
#include "../backend/conv_rules.hpp"
#include "../core/init.hpp"
#include "../ops/conv.hpp"
#include "concepts.hpp"

namespace ctnn {

/// A height × width pair; a single number means both: `3` is 3×3, `{3, 5}` is 3 high, 5 wide.
struct hw {
    std::size_t h = 0, w = 0;
    constexpr hw(std::size_t s = 0) : h(s), w(s) {}
    constexpr hw(std::size_t hh, std::size_t ww) : h(hh), w(ww) {}
};

/// Options of conv2d: `conv2d<64, 3, {.stride = 2, .padding = 1}>`.
struct conv_options {
    hw stride = 1;
    hw padding = 0;
    hw dilation = 1;
    std::size_t groups = 1;
    bool bias = true;
    initializer init = initializer::he;
};

/// Options of the pools; a stride of 0 means the kernel size (PyTorch's default).
struct pool_options {
    hw stride = 0;
    hw padding = 0;
};

namespace detail {
/// Output size of a window of k taps (dilation d) sliding with stride s over n + 2p values.
constexpr std::size_t window_out(std::size_t n, std::size_t k, std::size_t s, std::size_t p, std::size_t d) {
    return (n + 2 * p - d * (k - 1) - 1) / s + 1;
}
constexpr bool window_fits(std::size_t n, std::size_t k, std::size_t p, std::size_t d) { return n + 2 * p >= d * (k - 1) + 1; }


/// The weight [D0, D1, KH, KW] and optional bias [Bias] of a convolution layer, in the model's buffers.
template <class T, std::size_t D0, std::size_t D1, hw Kernel, std::size_t Bias>
struct conv_parameters {
    static constexpr std::size_t weight_size = D0 * D1 * Kernel.h * Kernel.w;
    static constexpr std::size_t parameter_count = weight_size + Bias;
    static constexpr auto parameters() noexcept {
        if constexpr (Bias > 0)
            return std::array<param_desc, 2>{param_desc{"weight", {D0, D1, Kernel.h, Kernel.w}, 4}, param_desc{"bias", {Bias}, 1}};
        else
            return std::array<param_desc, 1>{param_desc{"weight", {D0, D1, Kernel.h, Kernel.w}, 4}};
    }
    void attach(T* p, T* g) noexcept {
        m_w = p;
        m_dw = g;
        m_b = Bias ? p + weight_size : nullptr;
        m_db = Bias ? g + weight_size : nullptr;
    }

protected:
    T* m_w = nullptr;
    T* m_dw = nullptr;
    T* m_b = nullptr;
    T* m_db = nullptr;
};
}  // namespace detail

/// 2-D convolution with `Filters` output channels and kernel `Kernel` on NHWC samples shape<H, W, C>,
/// lowered to the GEMM (ops/conv.hpp): im2col, one GEMM per group with bias (and a following
/// activation, fused by `sequential`) in its epilogue; backward: dW = dYᵀ·cols, dX = col2im(dY·W).
/// Output shape<OH, OW, Filters>.
template <std::size_t Filters, hw Kernel, conv_options O = conv_options{}>
struct conv2d {
    static_assert(Filters > 0 && Kernel.h > 0 && Kernel.w > 0, "ctnn::conv2d: filters and kernel sizes must be positive");
    static_assert(O.stride.h > 0 && O.stride.w > 0 && O.dilation.h > 0 && O.dilation.w > 0 && O.groups > 0,
                  "ctnn::conv2d: stride, dilation and groups must be positive");

    template <shape_type In, class T, class P = cpu>
    struct bind : detail::conv_parameters<T, Filters, In::dims[In::rank - 1] / O.groups, Kernel, O.bias ? Filters : 0> {
        static_assert(In::rank == 3, "ctnn::conv2d: the input must be NHWC samples shape<H, W, C>; put "
                                     "reshape<H, W, C> before it");
        static constexpr std::size_t H = In::dims[0], W = In::dims[1], C = In::dims[In::rank - 1];
        static_assert(C % O.groups == 0 && Filters % O.groups == 0,
                      "ctnn::conv2d: input channels and filters must both be multiples of groups");
        static_assert(detail::window_fits(H, Kernel.h, O.padding.h, O.dilation.h) &&
                          detail::window_fits(W, Kernel.w, O.padding.w, O.dilation.w),
                      "ctnn::conv2d: the (dilated) kernel is larger than the padded input; reduce the kernel or add padding");
        static constexpr std::size_t OH = detail::window_out(H, Kernel.h, O.stride.h, O.padding.h, O.dilation.h);
        static constexpr std::size_t OW = detail::window_out(W, Kernel.w, O.stride.w, O.padding.w, O.dilation.w);
        static constexpr std::size_t G = O.groups, Cg = C / G, Fg = Filters / G, KK = Kernel.h * Kernel.w;
        static constexpr std::size_t Kg = Cg * KK;  // GEMM depth per group

        using value_type = T;
        using input_shape = In;
        using output_shape = shape<OH, OW, Filters>;
        static constexpr std::string_view name = "conv2d";
        static constexpr std::size_t cache_size = 0;
        static constexpr ops::conv_shape lowering{{H, W, C, OH, OW, Kernel.h, Kernel.w, O.stride.h, O.stride.w, O.padding.h,
                                                   O.padding.w, O.dilation.h, O.dilation.w},
                                                  G,
                                                  Filters};

        void init(rng& g) {
            init::layer(O.init, std::span<T>(this->m_w, Filters * Kg), std::span<T>(this->m_b, O.bias ? Filters : 0), Kg, Fg * KK, g);
        }
        /// Scratch per call (the container's plan): tap-ordered weights and, where materialised, columns.
        static constexpr std::size_t scratch_size(std::size_t batch) noexcept { return ops::conv_scratch<P, T>(lowering, batch); }
        void forward(const T* x, T* y, std::size_t batch, T*, mode, T* scratch) const { predict(x, y, batch, scratch); }
        void predict(const T* x, T* y, std::size_t batch, T* scratch) const {
            predict_fused(x, y, batch, activation_kind::none, T(0), scratch);
        }
        /// Containers fuse a following relu/leaky_relu/sigmoid/tanh/identity into the GEMM epilogue.
        static constexpr bool fuses_activation = true;
        void predict_fused(const T* x, T* y, std::size_t batch, activation_kind act, T slope, T* scratch) const {
            ops::conv2d_forward<P>(x, y, this->m_w, epilogue<T>{this->m_b, act, slope}, lowering, batch, scratch);
        }
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool param_grads, T* scratch) {
            ops::conv2d_backward<P>(x, dy, this->m_w, param_grads ? this->m_dw : nullptr, param_grads ? this->m_db : nullptr, dx,
                                    lowering, batch, scratch);
        }
    };
};

/// Options of conv_transpose2d (nn.ConvTranspose2d): `conv_transpose2d<32, 4, {.stride = 2, .padding = 1}>`.
/// output_padding adds rows/columns at the bottom/right of the output (it must be smaller than the
/// stride: it picks which of the input sizes that map to one output size is meant).
struct conv_transpose_options {
    hw stride = 1;
    hw padding = 0;
    hw output_padding = 0;
    hw dilation = 1;
    std::size_t groups = 1;
    bool bias = true;
    initializer init = initializer::he;
};

/// Transposed 2-D convolution (nn.ConvTranspose2d, the gradient of conv2d with respect to its input):
/// shape<H, W, C> → shape<OH, OW, Filters> with OH = (H − 1)·stride − 2·padding + dilation·(KH − 1) +
/// output_padding + 1. Weight [C, Filters/groups, KH, KW] as PyTorch. It reuses the conv2d lowering
/// with input and output exchanged: forward = col2im(X·W) + bias (and a fused activation), backward
/// dX = conv2d(dY, W), dW = Xᵀ·im2col(dY), db = Σ dY.
template <std::size_t Filters, hw Kernel, conv_transpose_options O = conv_transpose_options{}>
struct conv_transpose2d {
    static_assert(Filters > 0 && Kernel.h > 0 && Kernel.w > 0, "ctnn::conv_transpose2d: filters and kernel sizes must be positive");
    static_assert(O.stride.h > 0 && O.stride.w > 0 && O.dilation.h > 0 && O.dilation.w > 0 && O.groups > 0,
                  "ctnn::conv_transpose2d: stride, dilation and groups must be positive");
    static_assert(O.output_padding.h < O.stride.h && O.output_padding.w < O.stride.w,
                  "ctnn::conv_transpose2d: output_padding must be smaller than the stride");

    template <shape_type In, class T, class P = cpu>
    struct bind : detail::conv_parameters<T, In::dims[In::rank - 1], Filters / O.groups, Kernel, O.bias ? Filters : 0> {
        static_assert(In::rank == 3, "ctnn::conv_transpose2d: the input must be NHWC samples shape<H, W, C>; put "
                                     "reshape<H, W, C> before it");
        static constexpr std::size_t H = In::dims[0], W = In::dims[1], C = In::dims[In::rank - 1];
        static_assert(C % O.groups == 0 && Filters % O.groups == 0,
                      "ctnn::conv_transpose2d: input channels and filters must both be multiples of groups");
        static constexpr std::size_t full_h = (H - 1) * O.stride.h + O.dilation.h * (Kernel.h - 1) + O.output_padding.h + 1;
        static constexpr std::size_t full_w = (W - 1) * O.stride.w + O.dilation.w * (Kernel.w - 1) + O.output_padding.w + 1;
        static_assert(full_h > 2 * O.padding.h && full_w > 2 * O.padding.w,
                      "ctnn::conv_transpose2d: the padding removes the whole output; reduce the padding");
        static constexpr std::size_t OH = full_h - 2 * O.padding.h, OW = full_w - 2 * O.padding.w;
        static constexpr std::size_t G = O.groups, Cg = C / G, Fg = Filters / G, KK = Kernel.h * Kernel.w;

        using value_type = T;
        using input_shape = In;
        using output_shape = shape<OH, OW, Filters>;
        static constexpr std::string_view name = "conv_transpose2d";
        static constexpr std::size_t cache_size = 0;
        /// The convolution this layer transposes: shape<OH, OW, Filters> → shape<H, W, C>, C "filters".
        static constexpr ops::conv_shape lowering{{OH, OW, Filters, H, W, Kernel.h, Kernel.w, O.stride.h, O.stride.w, O.padding.h,
                                                   O.padding.w, O.dilation.h, O.dilation.w},
                                                  G,
                                                  C};
        static_assert(detail::window_out(OH, Kernel.h, O.stride.h, O.padding.h, O.dilation.h) == H &&
                      detail::window_out(OW, Kernel.w, O.stride.w, O.padding.w, O.dilation.w) == W);

        void init(rng& g) {  // fans as PyTorch computes them from the weight shape
            init::layer(O.init, std::span<T>(this->m_w, C * Fg * KK), std::span<T>(this->m_b, O.bias ? Filters : 0), Fg * KK, C * KK,
                        g);
        }
        /// Scratch per call (the container's plan): that of the exchanged convolution.
        static constexpr std::size_t scratch_size(std::size_t batch) noexcept { return ops::conv_scratch<P, T>(lowering, batch); }
        void forward(const T* x, T* y, std::size_t batch, T*, mode, T* scratch) const { predict(x, y, batch, scratch); }
        void predict(const T* x, T* y, std::size_t batch, T* scratch) const {
            predict_fused(x, y, batch, activation_kind::none, T(0), scratch);
        }
        static constexpr bool fuses_activation = true;
        void predict_fused(const T* x, T* y, std::size_t batch, activation_kind act, T slope, T* scratch) const {
            ops::conv2d_backward<P, T>(nullptr, x, this->m_w, nullptr, nullptr, y, lowering, batch, scratch);
            ops::apply_epilogue<P>(epilogue<T>{this->m_b, act, slope}, y, batch * OH * OW, Filters, Filters);
        }
        void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool param_grads, T* scratch) {
            if (param_grads) {
                ops::conv2d_backward<P, T>(dy, x, this->m_w, this->m_dw, nullptr, nullptr, lowering, batch, scratch);
                if constexpr (O.bias) ops::accumulate_column_sums<P>(this->m_db, dy, batch * OH * OW, Filters);
            }
            if (dx) ops::conv2d_forward<P, T>(dy, dx, this->m_w, epilogue<T>{}, lowering, batch, scratch);
        }
    };
};

namespace detail {
/// Max or average pooling over Kernel windows of NHWC samples (channels pooled independently).
template <bool Max, hw Kernel, pool_options O, const char* Name>
struct pool2d {
    static constexpr hw stride = hw{O.stride.h ? O.stride.h : Kernel.h, O.stride.w ? O.stride.w : Kernel.w};
    static_assert(Kernel.h > 0 && Kernel.w > 0, "ctnn::pool2d: the kernel must be positive");
    static_assert(2 * O.padding.h <= Kernel.h && 2 * O.padding.w <= Kernel.w,
                  "ctnn::pool2d: padding must be at most half the kernel (as in PyTorch)");

    template <shape_type In, class T, class P = cpu>
    struct bind : parameter_free {
        static_assert(In::rank == 3, "ctnn::pool2d: the input must be NHWC samples shape<H, W, C>");
        static constexpr std::size_t H = In::dims[0], W = In::dims[1], C = In::dims[2];
        static_assert(window_fits(H, Kernel.h, O.padding.h, 1) && window_fits(W, Kernel.w, O.padding.w, 1),
                      "ctnn::pool2d: the kernel is larger than the padded input; reduce the kernel or add padding");
        static constexpr std::size_t OH = window_out(H, Kernel.h, stride.h, O.padding.h, 1);
        static constexpr std::size_t OW = window_out(W, Kernel.w, stride.w, O.padding.w, 1);
        using value_type = T;
        using input_shape = In;
        using output_shape = shape<OH, OW, C>;
        static constexpr std::string_view name = Name;
        static constexpr std::size_t cache_size = Max ? OH * OW * C : 0;  // index of each maximum
        static constexpr conv::geometry geometry{H, W, C, OH, OW, Kernel.h, Kernel.w, stride.h, stride.w, O.padding.h, O.padding.w, 1, 1};

        /// Scratch per call (the container's plan): predict's winner indices (max pooling).
        static constexpr std::size_t scratch_size(std::size_t batch) noexcept { return Max ? batch * OH * OW * C : 0; }
        void forward(const T* x, T* y, std::size_t batch, T* cache, mode, T*) const {
            if constexpr (Max) ops::max_pool_forward<P>(x, y, cache, geometry, batch);
            else ops::avg_pool_forward<P>(x, y, geometry, batch);
        }
        void predict(const T* x, T* y, std::size_t batch, T* scratch) const {
            if constexpr (Max) ops::max_pool_forward<P>(x, y, scratch, geometry, batch);
            else ops::avg_pool_forward<P>(x, y, geometry, batch);
        }
        void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch, const T* cache, bool, T*) const {
            if (!dx) return;
            if constexpr (Max) ops::max_pool_backward<P>(dy, cache, dx, geometry, batch);
            else ops::avg_pool_backward<P>(dy, dx, geometry, batch);
        }
    };
};
inline constexpr char max_pool_name[] = "max_pool2d";
inline constexpr char avg_pool_name[] = "avg_pool2d";
inline constexpr char global_avg_pool_name[] = "global_avg_pool2d";
}  // namespace detail

/// Max pooling (nn.MaxPool2d): `max_pool2d<2>` halves H and W; `max_pool2d<3, {.stride = 2, .padding = 1}>`.
template <hw Kernel, pool_options O = pool_options{}>
using max_pool2d = detail::pool2d<true, Kernel, O, detail::max_pool_name>;
/// Average pooling (nn.AvgPool2d, count_include_pad = True).
template <hw Kernel, pool_options O = pool_options{}>
using avg_pool2d = detail::pool2d<false, Kernel, O, detail::avg_pool_name>;

namespace detail {
/// Dimension i of a per-sample shape, 1 past its rank (so a misuse reaches the rank static_assert).
template <shape_type S>
constexpr std::size_t dim(std::size_t i) {
    return i < S::rank ? S::dims[i] : 1;
}
/// The NHWC shape<H·MulH + AddH, W·MulW + AddW, C> of a padded or upsampled shape<H, W, C>.
template <shape_type S, std::size_t MulH, std::size_t AddH, std::size_t MulW, std::size_t AddW>
using resampled_t = shape<dim<S>(0) * MulH + AddH, dim<S>(1) * MulW + AddW, dim<S>(2)>;

/// A parameter-free NHWC resampling layer: Rule is conv::zero_pad (Top/Left: the padding above and
/// to the left) or conv::upsample_nearest.
template <template <class> class Rule, shape_type In, shape_type Out, class T, class P, const char* Name, std::size_t Top = 0,
          std::size_t Left = 0>
struct resample_layer : parameter_free {
    static_assert(In::rank == 3, "ctnn::zero_pad2d / upsample2d: the input must be NHWC samples shape<H, W, C>");
    using value_type = T;
    using input_shape = In;
    using output_shape = Out;
    static constexpr std::string_view name = Name;
    static constexpr std::size_t cache_size = 0;
    static constexpr std::size_t H = dim<In>(0), W = dim<In>(1), C = dim<In>(2), OH = dim<Out>(0), OW = dim<Out>(1);
    static constexpr conv::geometry g{H, W, C, OH, OW, 1, 1, OH / H, OW / W, Top, Left, 1, 1};
    void forward(const T* x, T* y, std::size_t batch, T*, mode) const { predict(x, y, batch); }
    void predict(const T* x, T* y, std::size_t batch) const { ops::resample<P>(Rule<T>{x, y, g, false}, batch * Out::size); }
    void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch, const T*, bool) const {
        if (dx) ops::resample<P>(Rule<T>{dy, dx, g, true}, batch * In::size);
    }
};
inline constexpr char zero_pad_name[] = "zero_pad2d";
inline constexpr char upsample_name[] = "upsample2d";
}  // namespace detail

/// The padding of zero_pad2d: one number pads all four sides, two are (h, w) — h rows above and below,
/// w columns left and right — and four are PyTorch's order (left, right, top, bottom).
struct pad2d {
    std::size_t left = 0, right = 0, top = 0, bottom = 0;
    constexpr pad2d(std::size_t s = 0) : left(s), right(s), top(s), bottom(s) {}
    constexpr pad2d(std::size_t h, std::size_t w) : left(w), right(w), top(h), bottom(h) {}
    constexpr pad2d(std::size_t l, std::size_t r, std::size_t t, std::size_t b) : left(l), right(r), top(t), bottom(b) {}
};

/// Zero padding (nn.ZeroPad2d): `zero_pad2d<1>`, `zero_pad2d<{1, 2}>` (1 row above and below, 2
/// columns left and right), `zero_pad2d<{0, 1, 0, 1}>` (nn.ZeroPad2d((0, 1, 0, 1)): right and bottom).
/// shape<H, W, C> → shape<H + top + bottom, W + left + right, C>.
template <pad2d Pad>
struct zero_pad2d {
    template <shape_type In, class T, class P = cpu>
    using bind = detail::resample_layer<conv::zero_pad, In, detail::resampled_t<In, 1, Pad.top + Pad.bottom, 1, Pad.left + Pad.right>,
                                        T, P, detail::zero_pad_name, Pad.top, Pad.left>;
};

/// Nearest-neighbour upsampling by Scale (nn.Upsample(scale_factor, mode='nearest')):
/// shape<H, W, C> → shape<H·Scale.h, W·Scale.w, C>.
template <hw Scale>
struct upsample2d {
    static_assert(Scale.h > 0 && Scale.w > 0, "ctnn::upsample2d: the scale must be positive");
    template <shape_type In, class T, class P = cpu>
    using bind = detail::resample_layer<conv::upsample_nearest, In, detail::resampled_t<In, Scale.h, 0, Scale.w, 0>, T, P,
                                        detail::upsample_name>;
};

/// Mean over H and W per channel (nn.AdaptiveAvgPool2d(1)): shape<H, W, C> → shape<1, 1, C>.
struct global_avg_pool2d {
    template <shape_type In, class T, class P = cpu>
    struct bind : detail::pool2d<false, hw{In::dims[0], In::dims[1]}, pool_options{}, detail::global_avg_pool_name>::template bind<In, T, P> {
        static_assert(In::rank == 3, "ctnn::global_avg_pool2d: the input must be NHWC samples shape<H, W, C>");
    };
};

}  // namespace ctnn
