#include "mcunas/supernet/thread_pool.h"

#include <algorithm>

#include "cblas.h"

namespace mcunas::supernet {
namespace {

// Roughly 20-50 us of spinning: long enough to catch the next loop of the
// same training step, short enough not to steal a loaded machine's cores.
constexpr int kSpinIterations = 4000;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
  openblas_set_num_threads(1);
  workers_.reserve(threads_ - 1);
  for (int i = 1; i < threads_; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

ThreadPool::~ThreadPool() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::ChunkRange(int64_t n, int chunks, int chunk, int64_t* begin,
                            int64_t* end) {
  const int64_t base = n / chunks;
  const int64_t extra = n % chunks;
  *begin = chunk * base + std::min<int64_t>(chunk, extra);
  *end = *begin + base + (chunk < extra ? 1 : 0);
}

int ThreadPool::Chunks(int64_t n) const {
  if (n <= 0) return 0;
  if (threads_ == 1) return 1;
  return static_cast<int>(std::min<int64_t>(n, int64_t{4} * threads_));
}

void ThreadPool::RunChunks(uint64_t generation,
                           const std::function<void(int64_t, int64_t, int)>& fn,
                           int64_t n, int chunks) {
  uint64_t v = work_.load(std::memory_order_acquire);
  while ((v >> 32) == generation &&
         static_cast<int>(v & 0xffffffffu) < chunks) {
    if (!work_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) {
      continue;  // v was reloaded
    }
    const int k = static_cast<int>(v & 0xffffffffu);
    int64_t begin, end;
    ChunkRange(n, chunks, k, &begin, &end);
    fn(begin, end, k);
    done_.fetch_add(1, std::memory_order_acq_rel);
    v = work_.load(std::memory_order_acquire);
  }
}

void ThreadPool::ParallelFor(
    int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) {
  if (n <= 0) return;
  const int chunks = Chunks(n);
  if (chunks == 1) {
    fn(0, n, 0);
    return;
  }
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    generation = ++generation_;
    fn_ = &fn;
    n_ = n;
    chunks_ = chunks;
    done_.store(0, std::memory_order_relaxed);
    work_.store(generation << 32, std::memory_order_release);
    published_generation_.store(generation, std::memory_order_release);
  }
  RunChunks(generation, fn, n, chunks);
  // The chunks still running are on other cores: spin, then yield so a
  // worker sharing this core gets it.
  for (int i = 0; done_.load(std::memory_order_acquire) < chunks; ++i) {
    if (i < kSpinIterations) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::WorkerLoop() {
  uint64_t seen = 0;
  while (true) {
    for (int i = 0; i < kSpinIterations; ++i) {
      if (published_generation_.load(std::memory_order_acquire) != seen) break;
      CpuRelax();
    }
    const std::function<void(int64_t, int64_t, int)>* fn;
    int64_t n;
    int chunks;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || generation_ != seen;
      };
      mu_.Await(absl::Condition(&ready));
      if (stop_) return;
      seen = generation_;
      fn = fn_;
      n = n_;
      chunks = chunks_;
    }
    RunChunks(seen, *fn, n, chunks);
  }
}

}  // namespace mcunas::supernet
