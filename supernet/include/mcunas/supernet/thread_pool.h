// A fixed pool of worker threads for data-parallel loops in supernet
// training: every op splits its batch (or rows) into a few contiguous chunks
// per thread, which the workers and the calling thread take in turn. More
// chunks than threads keep every core busy when one of them is shared with
// other work (a static split would wait for the slowest core).
//
// Ownership: the pool owns its threads and joins them on destruction.
// Thread-safety: ParallelFor may be called by one thread at a time (the
// training loop); it is not re-entrant (do not call it from inside `fn`).
#ifndef MCUNAS_SUPERNET_THREAD_POOL_H_
#define MCUNAS_SUPERNET_THREAD_POOL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace mcunas::supernet {

class ThreadPool {
 public:
  // `threads` >= 1 is the total parallelism including the calling thread, so
  // threads - 1 workers are started. Also pins OpenBLAS to one thread per
  // call: every GEMM is already issued from inside a chunk, and a second
  // layer of BLAS threads would oversubscribe the cores.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }

  // Splits [0, n) into Chunks(n) contiguous non-empty chunks and calls
  // fn(begin, end, chunk) once for each, chunk in [0, Chunks(n)), on any
  // thread. Returns when every call has returned. Chunk k always covers the
  // same range for the same n and thread count, so per-chunk partial sums
  // reduced in chunk order give deterministic results.
  void ParallelFor(int64_t n,
                   const std::function<void(int64_t, int64_t, int)>& fn);
  // How many chunks ParallelFor(n, ...) makes: min(n, 4 * threads()), or 1
  // with one thread.
  int Chunks(int64_t n) const;

  // The range of chunk `chunk` when [0, n) is split into `chunks` parts.
  static void ChunkRange(int64_t n, int chunks, int chunk, int64_t* begin,
                         int64_t* end);

 private:
  void WorkerLoop();
  // Claims and runs chunks of generation `generation` until none is left or
  // a newer generation has started.
  void RunChunks(uint64_t generation,
                 const std::function<void(int64_t, int64_t, int)>& fn,
                 int64_t n, int chunks);

  const int threads_;
  std::vector<std::thread> workers_;
  absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  const std::function<void(int64_t, int64_t, int)>* fn_ ABSL_GUARDED_BY(mu_) =
      nullptr;
  int64_t n_ ABSL_GUARDED_BY(mu_) = 0;
  int chunks_ ABSL_GUARDED_BY(mu_) = 0;
  // (generation << 32) | next unclaimed chunk: a worker that wakes late can
  // only claim chunks of the generation it read, so it never runs an old
  // loop body on a new loop's chunks.
  std::atomic<uint64_t> work_{0};
  std::atomic<int> done_{0};  // finished chunks of the current generation
  // Lets workers spin briefly on a new generation before sleeping: a
  // training step issues hundreds of short parallel loops.
  std::atomic<uint64_t> published_generation_{0};
};

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_THREAD_POOL_H_
