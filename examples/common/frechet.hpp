// SPDX-License-Identifier: MIT
#pragma once
// The Fréchet distance between two Gaussians (FID's formula) for score_samples: mean and covariance of feature
// rows, and d² = ‖μ1 - μ2‖² + tr(S1) + tr(S2) - 2 tr((S1 S2)^½), with tr((S1 S2)^½) = Σ √λ(S1^½ S2 S1^½) from
// two symmetric eigendecompositions by LAPACK's dsyev (link OpenBLAS or LAPACK).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <ctnn/ctnn.hpp>
#include <string>
#include <vector>

extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
                       const int* lwork, int* info);

namespace example {

/// A Gaussian in n dimensions: mean [n] and covariance [n, n] (row-major, symmetric).
struct gaussian {
    std::size_t n = 0;
    std::vector<double> mean, cov;
};

/// Mean and covariance (divided by rows - 1) of @p x [rows, n]; at least two rows.
inline gaussian fit_gaussian(const std::vector<double>& x, std::size_t n) {
    const std::size_t rows = n ? x.size() / n : 0;
    if (n == 0 || rows < 2 || rows * n != x.size()) ctnn::detail::fail("fit_gaussian: need at least two rows of " + std::to_string(n) + " values");
    gaussian g{n, std::vector<double>(n), std::vector<double>(n * n)};
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < n; ++j) g.mean[j] += x[r * n + j] / double(rows);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t i = 0; i < n; ++i) {
            const double di = x[r * n + i] - g.mean[i];
            for (std::size_t j = 0; j <= i; ++j) g.cov[i * n + j] += di * (x[r * n + j] - g.mean[j]);
        }
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j <= i; ++j) g.cov[j * n + i] = g.cov[i * n + j] /= double(rows - 1);
    return g;
}

/// Eigenvalues (ascending) of the symmetric @p a [n, n]; @p a is overwritten by the eigenvectors, vector k
/// at a[k·n .. k·n + n) (LAPACK's column-major columns).
inline std::vector<double> symmetric_eigen(std::vector<double>& a, std::size_t n) {
    const int m = int(n);
    int info = 0, lwork = -1;
    std::vector<double> w(n);
    double query = 0;
    dsyev_("V", "U", &m, a.data(), &m, w.data(), &query, &lwork, &info);
    lwork = int(query);
    std::vector<double> work(static_cast<std::size_t>(std::max(lwork, 1)));
    dsyev_("V", "U", &m, a.data(), &m, w.data(), work.data(), &lwork, &info);
    if (info != 0) ctnn::detail::fail("symmetric_eigen: LAPACK dsyev failed (info " + std::to_string(info) + ")");
    return w;
}

/// The squared Fréchet distance of two Gaussians of the same dimension (what FID reports).
inline double frechet_distance(const gaussian& a, const gaussian& b) {
    const std::size_t n = a.n;
    if (b.n != n) ctnn::detail::fail("frechet_distance: the Gaussians have " + std::to_string(n) + " and " + std::to_string(b.n) + " dimensions");
    std::vector<double> v = a.cov;
    const auto w = symmetric_eigen(v, n);  // S1 = Σ_k w_k v_k v_kᵀ
    std::vector<double> root(n * n, 0.0), t(n * n, 0.0), m(n * n, 0.0);
    for (std::size_t k = 0; k < n; ++k) {
        const double s = std::sqrt(std::max(w[k], 0.0));
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) root[i * n + j] += v[k * n + i] * s * v[k * n + j];
    }
    for (std::size_t i = 0; i < n; ++i)  // t = S1^½ S2
        for (std::size_t k = 0; k < n; ++k)
            for (std::size_t j = 0; j < n; ++j) t[i * n + j] += root[i * n + k] * b.cov[k * n + j];
    for (std::size_t i = 0; i < n; ++i)  // m = t S1^½, symmetric
        for (std::size_t k = 0; k < n; ++k)
            for (std::size_t j = 0; j < n; ++j) m[i * n + j] += t[i * n + k] * root[k * n + j];
    double tr_sqrt = 0, d = 0, tr = 0;
    for (double l : symmetric_eigen(m, n)) tr_sqrt += std::sqrt(std::max(l, 0.0));
    for (std::size_t i = 0; i < n; ++i) {
        d += (a.mean[i] - b.mean[i]) * (a.mean[i] - b.mean[i]);
        tr += a.cov[i * n + i] + b.cov[i * n + i];
    }
    return d + tr - 2 * tr_sqrt;
}

}  // namespace example
