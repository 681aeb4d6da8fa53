// SPDX-License-Identifier: MIT
// Transfer learning, honestly on data we have: pretrain a ResNet-8 on the eight Fashion-MNIST classes
// other than T-shirt/top (0) and Shirt (6), save it; then learn the hardest pair, 0 vs 6, from only a
// few labelled images: (a) load the backbone, freeze it, train a new dense<2> head; (b) unfreeze and
// fine-tune everything with SGD (lr 1e-3, momentum 0.9); (c) the same network from scratch on the same
// few images. All three are evaluated on every test image of the pair.
#include <cstdio>
#include <string>

#include "../common/example.hpp"

using namespace ctnn;
template <std::size_t Classes>
using net = models::resnet8<Classes, 28, 28, 1>;

namespace {
struct variant_result {
    double test_accuracy, samples_per_second;
};

template <class Model, class Opt>
variant_result train_variant(const char* label, Model& model, Opt& opt, const data::dataset<float>& train,
                             const data::dataset<float>& test, std::size_t epochs, std::size_t batch, std::uint64_t s) {
    const auto r = fit(model, opt, loss::cross_entropy{}, train, {.epochs = epochs, .batch = batch, .shuffle_seed = seed{s}});
    const double acc = evaluate(model, test).accuracy();
    std::printf("%-28s test accuracy %.4f on %zu images (%zu epochs on %zu labelled images)\n", label, acc, test.count, epochs,
                train.count);
    return {acc, r.samples_per_second()};
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ctnn example 05: transfer learning with a ResNet-8 on Fashion-MNIST"};
    example::options o;
    o.epochs = 4;
    std::size_t shots = 100, head_epochs = 30;
    example::add_options(app, o);
    app.add_option("--shots", shots, "labelled training images per class of the new task (0 vs 6)")->check(CLI::Range(1, 6000));
    app.add_option("--head-epochs", head_epochs, "epochs of the few-shot trainings")->check(CLI::Range(1, 1000));
    CLI11_PARSE(app, argc, argv);
    const std::string weights = o.save_path.empty() ? "resnet8_pretrained.npz" : o.save_path;
    return example::on_device(o, [&]<class P>(P) {
        const auto all = data::fashion_mnist::load(o.data_dir);
        const std::vector<std::int32_t> eight{1, 2, 3, 4, 5, 7, 8, 9}, pair{0, 6};
        const auto pre_train = all.train.select_classes(eight), pre_test = all.test.select_classes(eight);
        const auto few = all.train.select_classes(pair, shots), pair_test = all.test.select_classes(pair);
        std::printf("pretraining on %zu images of 8 classes; new task: %zu labelled images of T-shirt/top vs Shirt, "
                    "%zu test images; %s, %zu thread(s)\n",
                    pre_train.count, few.count, pair_test.count, P::name, num_threads());

        // 1. pretrain the 8-class network and save it
        typename net<8>::template on<P> pre{seed{o.seed_value}};
        example::train_and_report(pre, {o.epochs, o.batch, o.threads, o.lr, o.seed_value, o.data_dir, weights, "", o.device},
                                  {pre_train, pre_test}, optim::cosine_lr{o.lr, o.epochs, o.lr / 100});

        // (a) head only: backbone from the npz (fc does not fit: it is reported and left new), frozen
        typename net<2>::template on<P> transfer{seed{o.seed_value + 10}};
        const auto report = load_npz(transfer, weights, {.strict = false});
        std::printf("loaded %zu backbone entries; skipped %zu (", report.loaded.size(), report.skipped.size());
        for (const auto& s : report.skipped) std::printf(" %s", s.c_str());
        std::printf(" )\n");
        constexpr std::size_t head = net<2>::depth - 1;
        for (std::size_t i = 0; i < head; ++i) transfer.freeze(i);
        optim::adam head_opt{transfer.parameters(), {.lr = 1e-3}};
        const auto a = train_variant("(a) frozen backbone, new head", transfer, head_opt, few, pair_test, head_epochs, 32, 3);

        // (b) unfreeze and fine-tune everything with SGD
        for (std::size_t i = 0; i < head; ++i) transfer.unfreeze(i);
        optim::sgd tune_opt{transfer.parameters(), {.lr = 1e-3, .momentum = 0.9}};
        const auto b = train_variant("(b) + fine-tune all (SGD)", transfer, tune_opt, few, pair_test, head_epochs, 32, 4);

        // (c) the same network from scratch on the same few images
        typename net<2>::template on<P> scratch{seed{o.seed_value + 20}};
        optim::adam scratch_opt{scratch.parameters(), {.lr = 1e-3}};
        const auto c = train_variant("(c) from scratch", scratch, scratch_opt, few, pair_test, head_epochs, 32, 5);

        if (!o.json_path.empty()) {
            auto obj = [](const variant_result& v) {
                return "{\"test_accuracy\": " + std::to_string(v.test_accuracy) +
                       ", \"train_samples_per_second\": " + std::to_string(v.samples_per_second) + "}";
            };
            io::write_file_atomic(o.json_path, "{\"head_only\": " + obj(a) + ", \"fine_tune\": " + obj(b) + ", \"scratch\": " +
                                                   obj(c) + ", \"shots_per_class\": " + std::to_string(shots) + "}\n");
            std::printf("summary written to %s\n", o.json_path.c_str());
        }
    });
}
