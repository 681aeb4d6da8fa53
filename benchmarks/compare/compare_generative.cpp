// SPDX-License-Identifier: MIT
// ctnn vs libtorch, in one process, same initial weights (copied), same data, same threads:
//  - one GAN iteration of example 14 (examples/14_gan/gan.hpp unchanged: gan::trainer's D step on [real; fake]
//    then G step through the frozen D) at batch 256, Adam 2e-4 / beta1 0.5; the libtorch twin is the seeds'
//    PyTorch loop with torch::nn modules in training mode (BatchNorm1d batch statistics, Dropout 0.3):
//    fake = G(z); D step on cat([real, fake.detach()]) against [1; 0], BCELoss; G step with D's parameters
//    requires_grad(false), BCELoss(D(fake), 1);
//  - one VAE step of example 17 (examples/17_vae/vae.hpp unchanged: encoder → gaussian_sample → decoder,
//    BCE (mean per pixel) + KL/784, Adam 1e-3) at batch 128, latent 2 and 32; the libtorch twin computes
//    mu / logvar from the encoder's 2L outputs, z = mu + exp(0.5 logvar)·randn, the same loss, one Adam.
// Reported per step: ms (median over interleaved rounds), images/s (GAN: real images per iteration), and
// libtorch time / ctnn time. The first step's losses of both are printed as a sanity line (stderr).
// Options: --threads 1,2 (default), --only gan|vae2|vae32 (repeatable), --rounds N (default 9), --json FILE.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <ctnn/ctnn.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "14_gan/gan.hpp"
#include "17_vae/vae.hpp"
#include "compare_common.hpp"

using namespace ctnn;

namespace {

bool finite(double v) { return std::isfinite(v); }

void require_finite(const char* what, double a, double b) {
    if (!finite(a) || !finite(b)) {
        std::fprintf(stderr, "compare_generative: %s not finite (ctnn %g, libtorch %g)\n", what, a, b);
        std::exit(1);
    }
}

// ---- GAN (example 14) ----
constexpr std::size_t gan_batch = 256;

torch::nn::Sequential torch_generator() {
    namespace nn = torch::nn;
    auto lrelu = [] { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); };
    return nn::Sequential(nn::Linear(nn::LinearOptions(100, 256).bias(false)), nn::BatchNorm1d(256), lrelu(), nn::Linear(256, 512),
                          nn::BatchNorm1d(512), lrelu(), nn::Linear(512, 1024), nn::BatchNorm1d(1024), lrelu(), nn::Linear(1024, 784),
                          nn::Tanh());
}

torch::nn::Sequential torch_discriminator() {
    namespace nn = torch::nn;
    auto lrelu = [] { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); };
    auto drop = [] { return nn::Dropout(0.3); };
    return nn::Sequential(nn::Linear(784, 1024), lrelu(), drop(), nn::Linear(1024, 512), lrelu(), drop(), nn::Linear(512, 256), lrelu(),
                          drop(), nn::Linear(256, 1), nn::Sigmoid());
}

void gan_bench(std::vector<row>& rows, int threads, int rounds) {
    rng g{seed{11}};
    const auto real = uniform(gan_batch * 784, g, -1, 1);  // [256, 28, 28, 1] in [-1, 1]
    std::vector<float> z(gan_batch * gan::noise_size);
    for (auto& v : z) v = float(g.normal());
    // ctnn: example 14's models and trainer
    gan::generator gm{seed{1}};
    gan::discriminator dm{seed{2}};
    gan::trainer<gan::generator, gan::discriminator> t{gm, dm, gan_batch, 2e-4, 0.5, 0.0};
    // libtorch: the same networks from the same initial weights
    auto tg = torch_generator();
    auto td = torch_discriminator();
    copy_weights(gm, *tg);
    copy_weights(dm, *td);
    tg->train();
    td->train();
    torch::optim::Adam og(tg->parameters(), torch::optim::AdamOptions(2e-4).betas({0.5, 0.999}));
    torch::optim::Adam od(td->parameters(), torch::optim::AdamOptions(2e-4).betas({0.5, 0.999}));
    const auto xr = torch::from_blob(const_cast<float*>(real.data()), {long(gan_batch), 784}, torch::kFloat32);
    const auto zt = torch::from_blob(z.data(), {long(gan_batch), long(gan::noise_size)}, torch::kFloat32);
    const auto targets = torch::cat({torch::ones({long(gan_batch), 1}), torch::zeros({long(gan_batch), 1})});
    const auto ones = torch::ones({long(gan_batch), 1});
    auto set_d_grad = [&](bool on) {
        for (auto& p : td->parameters()) p.requires_grad_(on);
    };
    auto torch_step = [&] {
        const auto fake = tg->forward(zt);
        // D step
        const auto d_loss = torch::binary_cross_entropy(td->forward(torch::cat({xr, fake.detach()})), targets);
        od.zero_grad();
        d_loss.backward();
        od.step();
        // G step through the frozen D
        set_d_grad(false);
        const auto g_loss = torch::binary_cross_entropy(td->forward(fake), ones);
        og.zero_grad();
        g_loss.backward();
        og.step();
        set_d_grad(true);
        return std::pair{d_loss.item<double>(), g_loss.item<double>()};
    };
    gan::step_result rc;
    auto ctnn_step = [&] { rc = t.step(real.data(), z.data(), gan_batch); };
    // the first step (also the warm-up): losses of both
    ctnn_step();
    const auto [dl, gl] = torch_step();
    require_finite("GAN D loss", rc.d_loss, dl);
    require_finite("GAN G loss", rc.g_loss, gl);
    std::fprintf(stderr, "sanity: GAN first step, %d thread(s): D loss ctnn %.4f / libtorch %.4f, G loss ctnn %.4f / libtorch %.4f\n",
                 threads, rc.d_loss, dl, rc.g_loss, gl);
    double last_dl = 0, last_gl = 0;
    auto torch_chunk = [&] { std::tie(last_dl, last_gl) = torch_step(); };
    const auto [tc, tt] = interleaved_medians(rounds, ctnn_step, torch_chunk);
    require_finite("GAN D loss after the timed steps", rc.d_loss, last_dl);
    require_finite("GAN G loss after the timed steps", rc.g_loss, last_gl);
    const std::string what = "GAN iteration (D step + G step), batch 256";
    rows.push_back({what, threads, tc * 1e3, tt * 1e3, "ms", false});
    rows.push_back({what, threads, gan_batch / tc, gan_batch / tt, "images/s", true});
}

// ---- VAE (example 17) ----
constexpr std::size_t vae_batch = 128;

template <std::size_t L>
void vae_bench(std::vector<row>& rows, int threads, int rounds) {
    rng g{seed{12}};
    const auto x = uniform(vae_batch * vae::pixels, g, 0, 1);  // [128, 28, 28, 1] in [0, 1]
    vae::encoder<L> e{seed{1}};
    vae::sampler<L> s{seed{2}};
    vae::decoder<L> d{seed{3}};
    vae::trainer<L> t{e, s, d, vae_batch, 1e-3, 1.0};
    namespace nn = torch::nn;
    auto te = nn::Sequential(nn::Linear(784, 512), nn::ReLU(), nn::Linear(512, 256), nn::ReLU(), nn::Linear(256, long(2 * L)));
    auto tdec = nn::Sequential(nn::Linear(long(L), 256), nn::ReLU(), nn::Linear(256, 512), nn::ReLU(), nn::Linear(512, 784), nn::Sigmoid());
    copy_weights(e, *te);
    copy_weights(d, *tdec);
    std::vector<torch::Tensor> params = te->parameters();
    for (const auto& p : tdec->parameters()) params.push_back(p);
    torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-3));
    const auto xt_ = torch::from_blob(const_cast<float*>(x.data()), {long(vae_batch), 784}, torch::kFloat32);
    struct losses {
        double loss, kl;
    };
    auto torch_step = [&] {
        const auto stats = te->forward(xt_);
        const auto mu = stats.narrow(1, 0, long(L)), logvar = stats.narrow(1, long(L), long(L));
        const auto zz = mu + torch::exp(0.5 * logvar) * torch::randn_like(mu);
        const auto recon = tdec->forward(zz);
        const auto kl = (0.5 * (mu * mu + torch::exp(logvar) - 1 - logvar)).sum(1).mean();
        const auto loss = torch::binary_cross_entropy(recon, xt_) + kl / double(vae::pixels);
        opt.zero_grad();
        loss.backward();
        opt.step();
        return losses{loss.item<double>(), kl.item<double>()};
    };
    vae::step_result rc;
    auto ctnn_step = [&] { rc = t.step(x.data(), vae_batch); };
    const int reps = 4;
    auto ctnn_chunk = [&] {
        for (int r = 0; r < reps; ++r) ctnn_step();
    };
    losses lt{};
    auto torch_chunk = [&] {
        for (int r = 0; r < reps; ++r) lt = torch_step();
    };
    ctnn_step();
    lt = torch_step();
    require_finite("VAE loss", rc.loss, lt.loss);
    std::fprintf(stderr, "sanity: VAE latent %zu first step, %d thread(s): loss ctnn %.4f / libtorch %.4f, KL per image ctnn %.4f / libtorch %.4f\n",
                 L, threads, rc.loss, lt.loss, rc.kl, lt.kl);
    ctnn_chunk();  // warm-up
    torch_chunk();
    const auto [tc, tt] = interleaved_medians(rounds, ctnn_chunk, torch_chunk);
    require_finite("VAE loss after the timed steps", rc.loss, lt.loss);
    const std::string what = "VAE step, latent " + std::to_string(L) + ", batch 128";
    rows.push_back({what, threads, tc / reps * 1e3, tt / reps * 1e3, "ms", false});
    rows.push_back({what, threads, vae_batch * reps / tc, vae_batch * reps / tt, "images/s", true});
}

}  // namespace

int main(int argc, char** argv) {
    const auto args = parse_compare_args(argc, argv, 9, "usage: compare_generative [--json FILE] [--threads 1,2] [--only gan|vae2|vae32]... [--rounds N]");
    if (!args.ok) return 2;
    std::printf("%s\n\n", isa_line().c_str());
    std::fflush(stdout);
    torch::manual_seed(1);
    std::vector<row> rows;
    for (int threads : args.threads) {
        ctnn::set_num_threads(std::size_t(threads));
        torch::set_num_threads(threads);
        if (args.wanted("gan")) gan_bench(rows, threads, args.rounds);
        if (args.wanted("vae2")) vae_bench<2>(rows, threads, args.rounds);
        if (args.wanted("vae32")) vae_bench<32>(rows, threads, args.rounds);
    }
    print_and_save(rows, args.json_path);
    return 0;
}
