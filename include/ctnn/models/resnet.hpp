// SPDX-License-Identifier: MIT
#pragma once
/// @file resnet.hpp  ResNets as types. `resnet18<Classes>` (and `resnet34`) is torchvision's model layer for layer,
/// with its state_dict names (`conv1.weight`, `bn1.running_mean`, `layer1.0.conv1.weight`,
/// `layer2.0.downsample.0.weight`, `fc.weight`, ...), so weights move between the two with save_npz /
/// load_npz. Inputs are NHWC 224×224×3 (any size ≥ 32 works: the pooling is global).
#include <cstddef>
#include <type_traits>

#include "../layers/activation.hpp"
#include "../layers/conv.hpp"
#include "../layers/dense.hpp"
#include "../layers/named.hpp"
#include "../layers/norm.hpp"
#include "../layers/reshape.hpp"
#include "../layers/residual.hpp"
#include "../model/sequential.hpp"

namespace ctnn::models {

/// torchvision's BasicBlock: conv3×3(stride) → BN → ReLU → conv3×3 → BN, plus the input (or, when
/// `Project`, a 1×1 stride conv + BN of it: `downsample`). The ReLU after the sum is the next layer.
template <std::size_t F, std::size_t Stride = 1, bool Project = (Stride != 1)>
using basic_block =
    residual<chain<named<"conv1", conv2d<F, 3, {.stride = Stride, .padding = 1, .bias = false}>>, named<"bn1", batch_norm2d<>>, relu,
                   named<"conv2", conv2d<F, 3, {.padding = 1, .bias = false}>>, named<"bn2", batch_norm2d<>>>,
             std::conditional_t<Project,
                                chain<named<"downsample.0", conv2d<F, 1, {.stride = Stride, .bias = false}>>,
                                      named<"downsample.1", batch_norm2d<>>>,
                                chain<>>,
             branch_names::flat>;

/// ResNet-18 (torchvision.models.resnet18, BasicBlock ×[2, 2, 2, 2]) on H×W×3 NHWC images.
template <std::size_t Classes, std::size_t H = 224, std::size_t W = 224, class T = float, class P = cpu>
using resnet18 = policy_sequential<
    P, T, input<H, W, 3>,                                                                              //
    named<"conv1", conv2d<64, 7, {.stride = 2, .padding = 3, .bias = false}>>, named<"bn1", batch_norm2d<>>, relu,
    max_pool2d<3, {.stride = 2, .padding = 1}>,                                                        //
    named<"layer1.0", basic_block<64>>, relu, named<"layer1.1", basic_block<64>>, relu,                  //
    named<"layer2.0", basic_block<128, 2>>, relu, named<"layer2.1", basic_block<128>>, relu,             //
    named<"layer3.0", basic_block<256, 2>>, relu, named<"layer3.1", basic_block<256>>, relu,             //
    named<"layer4.0", basic_block<512, 2>>, relu, named<"layer4.1", basic_block<512>>, relu,             //
    global_avg_pool2d, flatten, named<"fc", dense<Classes, true, initializer::torch>>>;

/// ResNet-34 (torchvision.models.resnet34, BasicBlock ×[3, 4, 6, 3]; 21 797 672 parameters for 1000
/// classes), torchvision's state_dict names.
template <std::size_t Classes, std::size_t H = 224, std::size_t W = 224, class T = float, class P = cpu>
using resnet34 = policy_sequential<
    P, T, input<H, W, 3>,                                                                              //
    named<"conv1", conv2d<64, 7, {.stride = 2, .padding = 3, .bias = false}>>, named<"bn1", batch_norm2d<>>, relu,
    max_pool2d<3, {.stride = 2, .padding = 1}>,                                                        //
    named<"layer1.0", basic_block<64>>, relu, named<"layer1.1", basic_block<64>>, relu,                  //
    named<"layer1.2", basic_block<64>>, relu,                                                           //
    named<"layer2.0", basic_block<128, 2>>, relu, named<"layer2.1", basic_block<128>>, relu,             //
    named<"layer2.2", basic_block<128>>, relu, named<"layer2.3", basic_block<128>>, relu,                //
    named<"layer3.0", basic_block<256, 2>>, relu, named<"layer3.1", basic_block<256>>, relu,             //
    named<"layer3.2", basic_block<256>>, relu, named<"layer3.3", basic_block<256>>, relu,                //
    named<"layer3.4", basic_block<256>>, relu, named<"layer3.5", basic_block<256>>, relu,                //
    named<"layer4.0", basic_block<512, 2>>, relu, named<"layer4.1", basic_block<512>>, relu,             //
    named<"layer4.2", basic_block<512>>, relu,                                                          //
    global_avg_pool2d, flatten, named<"fc", dense<Classes, true, initializer::torch>>>;

/// ResNet-18 for small images (CIFAR's 32×32, Fashion-MNIST's 28×28): a 3×3 stride-1 stem and no
/// max-pool, the usual CIFAR adaptation; same names as resnet18.
template <std::size_t Classes, std::size_t H = 32, std::size_t W = 32, std::size_t C = 3, class T = float, class P = cpu>
using resnet18_small = policy_sequential<
    P, T, input<H, W, C>,                                                                             //
    named<"conv1", conv2d<64, 3, {.padding = 1, .bias = false}>>, named<"bn1", batch_norm2d<>>, relu,    //
    named<"layer1.0", basic_block<64>>, relu, named<"layer1.1", basic_block<64>>, relu,                  //
    named<"layer2.0", basic_block<128, 2>>, relu, named<"layer2.1", basic_block<128>>, relu,             //
    named<"layer3.0", basic_block<256, 2>>, relu, named<"layer3.1", basic_block<256>>, relu,             //
    named<"layer4.0", basic_block<512, 2>>, relu, named<"layer4.1", basic_block<512>>, relu,             //
    global_avg_pool2d, flatten, named<"fc", dense<Classes, true, initializer::torch>>>;

/// A ResNet-8 in the CIFAR style (He et al. 2016, §4.2, n = 1): a 3×3 stem of `Width` filters and three
/// stages of one basic block each (Width, 2·Width, 4·Width; stride 2 between stages), global pooling, a
/// dense classifier. Trains on 2 cores in minutes.
template <std::size_t Classes, std::size_t H, std::size_t W, std::size_t C, std::size_t Width = 16, class T = float, class P = cpu>
using resnet8 = policy_sequential<
    P, T, input<H, W, C>,                                                                             //
    named<"conv1", conv2d<Width, 3, {.padding = 1, .bias = false}>>, named<"bn1", batch_norm2d<>>, relu, //
    named<"layer1.0", basic_block<Width, 1, false>>, relu,                                              //
    named<"layer2.0", basic_block<2 * Width, 2>>, relu,                                                 //
    named<"layer3.0", basic_block<4 * Width, 2>>, relu,                                                 //
    global_avg_pool2d, flatten, named<"fc", dense<Classes, true, initializer::torch>>>;

}  // namespace ctnn::models
