// SPDX-License-Identifier: MIT
#pragma once
// A training history as CSV (one row per epoch, step or episode), drawn by tools/plot_history.py; used by the
// generative (14-17) and reinforcement-learning (18-21) examples.
#include <cmath>
#include <ctnn/ctnn.hpp>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace example {

/// A training history: one row per epoch (or step), written as CSV — a header of column names, the first
/// column the x axis — rewritten atomically by save() so an interrupted run leaves a readable file.
class history {
public:
    history(std::filesystem::path path, std::vector<std::string> columns) : m_path(std::move(path)), m_columns(std::move(columns)) {}
    void add(const std::vector<double>& row) {
        if (row.size() != m_columns.size())
            ctnn::detail::fail("history: a row of " + std::to_string(row.size()) + " values for " + std::to_string(m_columns.size()) +
                               " columns");
        m_rows.push_back(row);
    }
    std::string csv() const {
        std::ostringstream s;
        s.precision(7);
        for (std::size_t i = 0; i < m_columns.size(); ++i) s << (i ? "," : "") << m_columns[i];
        s << '\n';
        for (const auto& r : m_rows) {
            for (std::size_t i = 0; i < r.size(); ++i) {
                if (i) s << ',';
                if (std::isfinite(r[i])) s << r[i];
            }
            s << '\n';
        }
        return s.str();
    }
    /// Writes the CSV (nothing when the path is empty).
    void save() const {
        if (!m_path.empty()) ctnn::io::write_file_atomic(m_path, csv());
    }
    const std::vector<std::vector<double>>& rows() const noexcept { return m_rows; }

private:
    std::filesystem::path m_path;
    std::vector<std::string> m_columns;
    std::vector<std::vector<double>> m_rows;
};

}  // namespace example
