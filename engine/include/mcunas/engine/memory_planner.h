// Places buffers with known lifetimes in one arena.
//
// Two planners share one interface: LinearPlanner gives every buffer its own
// range (the baseline and a test oracle), GreedyPlanner packs buffers whose
// lifetimes do not overlap into the same bytes. Both work only in caller
// scratch (ScratchBytesFor) and never allocate, so they run on the host (the
// server computes the SRAM a candidate needs) and could run on a device.
// Offsets are multiples of kArenaAlignment. Not thread-safe.
#ifndef MCUNAS_ENGINE_MEMORY_PLANNER_H_
#define MCUNAS_ENGINE_MEMORY_PLANNER_H_

#include <stdint.h>

#include "mcunas/engine/status.h"

namespace mcunas::engine {

class MemoryPlanner {
 public:
  // Registers buffer #N (N = call order), live from op `first` to op `last`
  // inclusive. Fails with kInvalidArgument when first > last or `bytes`
  // cannot be rounded up in 32 bits, kPlanFailed when scratch is full.
  virtual Status AddBuffer(uint32_t bytes, uint16_t first, uint16_t last) = 0;
  // Assigns offsets. Call once, after every AddBuffer. Fails with
  // kPlanFailed when the arena would exceed 32 bits.
  virtual Status Plan() = 0;
  // REQUIRES: Plan() succeeded and buffer < BufferCount().
  virtual uint32_t OffsetOf(uint16_t buffer) const = 0;
  // Arena bytes the plan uses (end of the highest buffer, aligned).
  virtual uint32_t PeakBytes() const = 0;
  virtual uint16_t BufferCount() const = 0;

 protected:
  ~MemoryPlanner() = default;  // never deleted through the interface
};

// The largest total of buffer bytes (each rounded up to kArenaAlignment) live
// at any one op: no placement can use less arena. Saturates at UINT32_MAX.
// `bytes`, `first`, `last` are parallel arrays of `count` buffers; a buffer
// with first > last is never live. O(count^2).
uint32_t LiveBytesLowerBound(const uint32_t* bytes, const uint16_t* first,
                             const uint16_t* last, uint16_t count);

// Every buffer at its own offset, in call order. Peak = sum of sizes.
class LinearPlanner final : public MemoryPlanner {
 public:
  static uint32_t ScratchBytesFor(uint16_t max_buffers);
  // `scratch` must hold ScratchBytesFor(max_buffers) bytes, 4-byte aligned,
  // and outlive the planner.
  LinearPlanner(void* scratch, uint32_t scratch_bytes);

  Status AddBuffer(uint32_t bytes, uint16_t first, uint16_t last) override;
  Status Plan() override;
  uint32_t OffsetOf(uint16_t buffer) const override;
  uint32_t PeakBytes() const override;
  uint16_t BufferCount() const override { return count_; }

 private:
  struct Entry {
    uint32_t bytes;
    uint32_t offset;
  };
  Entry* entries_;
  uint16_t capacity_;
  uint16_t count_ = 0;
  uint32_t peak_ = 0;
};

// TFLite Micro's greedy scheme: buffers sorted by size (largest first), each
// placed at the lowest offset where it overlaps no already-placed buffer that
// is live at the same time. Size order alone strands space on inverted-
// residual chains (every block's expand buffer lands at offset 0, so a block
// output that lives into the next block cannot reuse the dead expand buffer
// below it), so Plan() also places the buffers in order of first use and of
// lifetime length, and keeps the lowest peak (ties: the earlier order, size
// first). It stops early where that cannot change the outcome: after an
// order that reaches LiveBytesLowerBound, and inside an order once its peak
// reaches the best one so far. The result depends only on the buffers added.
// O(n^2) in the number of buffers (placement); the sorts and the bound are
// O(n log n).
class GreedyPlanner final : public MemoryPlanner {
 public:
  static uint32_t ScratchBytesFor(uint16_t max_buffers);
  // `scratch` must hold ScratchBytesFor(max_buffers) bytes, 4-byte aligned,
  // and outlive the planner.
  GreedyPlanner(void* scratch, uint32_t scratch_bytes);

  Status AddBuffer(uint32_t bytes, uint16_t first, uint16_t last) override;
  Status Plan() override;
  uint32_t OffsetOf(uint16_t buffer) const override;
  uint32_t PeakBytes() const override;
  uint16_t BufferCount() const override { return count_; }
  // LiveBytesLowerBound of the buffers added, which Plan() computes anyway.
  // REQUIRES: Plan() was called.
  uint32_t LowerBoundBytes() const { return lower_bound_; }

 private:
  struct Entry {
    uint32_t bytes;
    uint32_t offset;        // in the best plan so far
    uint32_t trial_offset;  // in the plan being tried
    uint16_t first;
    uint16_t last;
  };
  // A sort key, compared as the 64-bit number high:low (two words keep
  // the scratch's 4-byte alignment sufficient).
  struct SortKey {
    uint32_t high;
    uint32_t low;  // the buffer index in the low 16 bits
  };
  enum class Order : uint8_t { kSize, kFirstUse, kLifetime };
  static constexpr uint32_t kBytesPerBuffer =
      sizeof(Entry) + sizeof(SortKey) + 2 * sizeof(uint16_t);

  // Fills order_ with the buffer indices in `order` (a strict total order:
  // the buffer index breaks every tie). Uses keys_ and by_offset_.
  void SortBy(Order order);
  // LiveBytesLowerBound of the entries, by a sweep. Uses order_ and
  // by_offset_.
  uint32_t ComputeLowerBound();
  // Places every buffer in `order` at its lowest fitting offset (into
  // trial_offset) and returns the peak, which may not fit in 32 bits. Gives
  // up as soon as the peak reaches `limit` and returns a value >= limit.
  uint64_t PlaceInOrder(Order order, uint64_t limit);

  Entry* entries_;
  SortKey* keys_;        // per buffer, for SortBy
  uint16_t* order_;      // buffer indices in placement order
  uint16_t* by_offset_;  // placed buffer indices, by ascending offset
  uint16_t capacity_;
  uint16_t count_ = 0;
  uint32_t peak_ = 0;
  uint32_t lower_bound_ = 0;
};

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_MEMORY_PLANNER_H_
