// SPDX-License-Identifier: MIT
#pragma once
/// @file thread_pool.hpp  A small persistent thread pool: the only global mutable state in ctnn.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace ctnn {

/// Runs `f(part)` for part = 0..parts-1 on a fixed set of threads; the calling thread runs part 0.
/// Work is split by the caller, so results depend only on the part count (deterministic).
/// Workers spin briefly (~50 µs) before sleeping, so back-to-back regions (the GEMMs of a training
/// step) start in well under a microsecond; an idle pool sleeps and costs nothing.
/// Calls from several user threads are serialised; a call made from inside a task runs inline.
class thread_pool {
public:
    explicit thread_pool(std::size_t threads = 1) { resize(threads); }
    ~thread_pool() { stop(); }
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    /// Number of threads used (including the caller).
    std::size_t size() const noexcept { return m_workers.size() + 1; }

    /// Changes the thread count (>= 1). Not to be called while a region runs.
    void resize(std::size_t threads) {
        stop();
        threads = std::max<std::size_t>(threads, 1);
        m_quit.store(false);
        // new workers must not mistake the last (finished) region for a new one
        const std::size_t generation = m_generation.load();
        for (std::size_t i = 1; i < threads; ++i) m_workers.emplace_back([this, i, generation] { work(i, generation); });
    }

    /// Runs `f(part)` for every part in [0, parts) with parts <= size(); blocks until all finish.
    template <class F>
    void run(std::size_t parts, F&& f) {
        if (parts <= 1 || m_workers.empty() || t_inside) {
            for (std::size_t p = 0; p < parts; ++p) f(p);
            return;
        }
        parts = std::min(parts, size());
        std::unique_lock call(m_call);  // one parallel region at a time
        m_fn = [](void* ctx, std::size_t p) { (*static_cast<std::remove_reference_t<F>*>(ctx))(p); };
        m_ctx = &f;
        m_parts = parts;
        m_pending.store(parts - 1, std::memory_order_relaxed);
        {
            std::lock_guard lk(m_mutex);  // publishes the region to spinning and sleeping workers
            m_generation.fetch_add(1, std::memory_order_release);
        }
        m_wake.notify_all();
        t_inside = true;
        f(0);
        t_inside = false;
        if (!spin_until([&] { return m_pending.load(std::memory_order_acquire) == 0; })) {
            std::unique_lock lk(m_mutex);
            m_done.wait(lk, [&] { return m_pending.load(std::memory_order_acquire) == 0; });
        }
    }

private:
    template <class Pred>
    static bool spin_until(Pred ready) noexcept {
        for (int i = 0; i < 20000; ++i) {  // ~50 µs of pause instructions
            if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
        return ready();
    }
    void work(std::size_t index, std::size_t seen) {
        for (;;) {
            auto fresh = [&] { return m_quit.load(std::memory_order_acquire) || m_generation.load(std::memory_order_acquire) != seen; };
            if (!spin_until(fresh)) {
                std::unique_lock lk(m_mutex);
                m_wake.wait(lk, fresh);
            }
            if (m_quit.load(std::memory_order_acquire)) return;
            seen = m_generation.load(std::memory_order_acquire);
            if (index >= m_parts) continue;
            t_inside = true;
            m_fn(m_ctx, index);
            t_inside = false;
            if (m_pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard lk(m_mutex);  // the caller may be about to sleep on m_done
                m_done.notify_one();
            }
        }
    }
    void stop() {
        {
            std::lock_guard lk(m_mutex);
            m_quit.store(true);
        }
        m_wake.notify_all();
        for (auto& t : m_workers) t.join();
        m_workers.clear();
    }

    std::vector<std::thread> m_workers;
    std::mutex m_call, m_mutex;
    std::condition_variable m_wake, m_done;
    void (*m_fn)(void*, std::size_t) = nullptr;
    void* m_ctx = nullptr;
    std::size_t m_parts = 0;
    std::atomic<std::size_t> m_pending{0}, m_generation{0};
    std::atomic<bool> m_quit{false};
    static inline thread_local bool t_inside = false;
};

namespace detail {
inline std::size_t default_thread_count() {
    if (const char* e = std::getenv("CTNN_NUM_THREADS")) {
        const long v = std::strtol(e, nullptr, 10);
        if (v > 0 && v <= 1024) return std::size_t(v);
    }
    return 1;
}
}  // namespace detail

/// The process-wide pool used by ctnn's CPU kernels. Starts with $CTNN_NUM_THREADS threads (or 1).
inline thread_pool& default_pool() {
    static thread_pool pool(detail::default_thread_count());
    return pool;
}
/// Sets the number of threads ctnn's CPU kernels use (>= 1).
inline void set_num_threads(std::size_t n) { default_pool().resize(n); }
/// The number of threads ctnn's CPU kernels use.
inline std::size_t num_threads() { return default_pool().size(); }

}  // namespace ctnn
