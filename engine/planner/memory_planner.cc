#include "mcunas/engine/memory_planner.h"

#include <stdint.h>
#include <string.h>

#include "mcunas/engine/model_format.h"

namespace mcunas::engine {
namespace {

// Largest size that can still be rounded up to kArenaAlignment in 32 bits.
constexpr uint32_t kMaxBufferBytes = UINT32_MAX - (kArenaAlignment - 1);
constexpr uint16_t kMaxBuffers = UINT16_MAX;

constexpr uint64_t AlignUp(uint64_t bytes) {
  return (bytes + kArenaAlignment - 1) & ~uint64_t{kArenaAlignment - 1};
}

// How many buffers `scratch_bytes` of scratch can describe, or 0 when the
// scratch is unusable (null or not 4-byte aligned).
uint16_t CapacityFor(const void* scratch, uint32_t scratch_bytes,
                     uint32_t bytes_per_buffer) {
  if (scratch == nullptr || reinterpret_cast<uintptr_t>(scratch) % 4 != 0) {
    return 0;
  }
  const uint32_t capacity = scratch_bytes / bytes_per_buffer;
  return capacity > kMaxBuffers ? kMaxBuffers : static_cast<uint16_t>(capacity);
}

}  // namespace

uint32_t LiveBytesLowerBound(const uint32_t* bytes, const uint16_t* first,
                             const uint16_t* last, uint16_t count) {
  // The live total only grows when a buffer starts, so its maximum is reached
  // at some buffer's first op: checking those `count` ops suffices.
  uint64_t best = 0;
  for (uint16_t i = 0; i < count; ++i) {
    const uint16_t op = first[i];
    uint64_t live = 0;
    for (uint16_t j = 0; j < count; ++j) {
      if (first[j] <= op && op <= last[j]) live += AlignUp(bytes[j]);
    }
    if (live > best) best = live;
  }
  return best > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(best);
}

uint32_t LinearPlanner::ScratchBytesFor(uint16_t max_buffers) {
  return uint32_t{max_buffers} * sizeof(Entry);
}

LinearPlanner::LinearPlanner(void* scratch, uint32_t scratch_bytes)
    : entries_(static_cast<Entry*>(scratch)),
      capacity_(CapacityFor(scratch, scratch_bytes, sizeof(Entry))) {}

Status LinearPlanner::AddBuffer(uint32_t bytes, uint16_t first, uint16_t last) {
  if (first > last || bytes > kMaxBufferBytes) {
    return Status::kInvalidArgument;
  }
  if (count_ >= capacity_) return Status::kPlanFailed;
  entries_[count_] = Entry{static_cast<uint32_t>(AlignUp(bytes)), 0};
  ++count_;
  return Status::kOk;
}

Status LinearPlanner::Plan() {
  uint64_t end = 0;
  for (uint16_t i = 0; i < count_; ++i) {
    entries_[i].offset = static_cast<uint32_t>(end);
    end += entries_[i].bytes;
    if (end > UINT32_MAX) {
      peak_ = 0;
      return Status::kPlanFailed;
    }
  }
  peak_ = static_cast<uint32_t>(end);
  return Status::kOk;
}

uint32_t LinearPlanner::OffsetOf(uint16_t buffer) const {
  return buffer < count_ ? entries_[buffer].offset : 0;
}

uint32_t LinearPlanner::PeakBytes() const { return peak_; }

uint32_t GreedyPlanner::ScratchBytesFor(uint16_t max_buffers) {
  return uint32_t{max_buffers} * kBytesPerBuffer;
}

GreedyPlanner::GreedyPlanner(void* scratch, uint32_t scratch_bytes)
    : capacity_(CapacityFor(scratch, scratch_bytes, kBytesPerBuffer)) {
  // Layout: Entry[capacity] | SortKey[capacity] | order[capacity] |
  // by_offset[capacity]. Entry and SortKey hold 4-byte fields, so every
  // array stays aligned.
  uint8_t* base = static_cast<uint8_t*>(scratch);
  entries_ = reinterpret_cast<Entry*>(base);
  keys_ = reinterpret_cast<SortKey*>(base + capacity_ * sizeof(Entry));
  order_ = reinterpret_cast<uint16_t*>(base + capacity_ * sizeof(Entry) +
                                       capacity_ * sizeof(SortKey));
  by_offset_ = order_ + capacity_;
}

Status GreedyPlanner::AddBuffer(uint32_t bytes, uint16_t first, uint16_t last) {
  if (first > last || bytes > kMaxBufferBytes) {
    return Status::kInvalidArgument;
  }
  if (count_ >= capacity_) return Status::kPlanFailed;
  entries_[count_] =
      Entry{static_cast<uint32_t>(AlignUp(bytes)), 0, 0, first, last};
  ++count_;
  return Status::kOk;
}

void GreedyPlanner::SortBy(Order order) {
  // Ascending keys give the order: the primary criterion in the high bits,
  // the secondary one below it, the buffer index (the final tie break, so
  // every key is distinct) in the low 16 bits. Sizes are stored as
  // UINT32_MAX - bytes so that larger sorts first.
  const uint32_t n = count_;
  for (uint16_t i = 0; i < n; ++i) {
    const Entry& e = entries_[i];
    const uint64_t smaller = UINT32_MAX - e.bytes;
    uint64_t key = 0;
    switch (order) {
      case Order::kSize:
        key = smaller << 32 | uint64_t{e.first} << 16;
        break;
      case Order::kFirstUse:
        key = uint64_t{e.first} << 48 | smaller << 16;
        break;
      case Order::kLifetime:
        key = (uint64_t{UINT16_MAX} - (e.last - e.first)) << 48 | smaller << 16;
        break;
    }
    key |= i;
    keys_[i] =
        SortKey{static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key)};
    order_[i] = i;
  }
  const auto key_of = [&](uint16_t buffer) {
    return uint64_t{keys_[buffer].high} << 32 | keys_[buffer].low;
  };

  // Bottom-up merge sort (by_offset_ is the second buffer): runs of kRun
  // sorted by insertion, then merged pairwise; a pair already in order is
  // copied, so input nearly in order (buffers usually arrive in op order)
  // sorts in about O(n). O(n log n) in any case, no recursion.
  constexpr uint32_t kRun = 8;
  for (uint32_t lo = 0; lo < n; lo += kRun) {
    const uint32_t hi = lo + kRun < n ? lo + kRun : n;
    for (uint32_t i = lo + 1; i < hi; ++i) {
      const uint16_t item = order_[i];
      const uint64_t item_key = key_of(item);
      uint32_t j = i;
      while (j > lo && key_of(order_[j - 1]) > item_key) {
        order_[j] = order_[j - 1];
        --j;
      }
      order_[j] = item;
    }
  }
  uint16_t* from = order_;
  uint16_t* to = by_offset_;
  for (uint32_t width = kRun; width < n; width *= 2) {
    for (uint32_t lo = 0; lo < n; lo += 2 * width) {
      const uint32_t mid = lo + width < n ? lo + width : n;
      const uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      if (mid == hi || key_of(from[mid - 1]) < key_of(from[mid])) {
        memcpy(to + lo, from + lo, (hi - lo) * sizeof(from[0]));
        continue;
      }
      uint32_t a = lo, b = mid, out = lo;
      while (a < mid && b < hi) {
        to[out++] = key_of(from[b]) < key_of(from[a]) ? from[b++] : from[a++];
      }
      while (a < mid) to[out++] = from[a++];
      while (b < hi) to[out++] = from[b++];
    }
    uint16_t* const swap = from;
    from = to;
    to = swap;
  }
  if (from != order_) memcpy(order_, from, n * sizeof(from[0]));
}

uint32_t GreedyPlanner::ComputeLowerBound() {
  // Sweep the buffers by first use (the live total only grows where one
  // starts), keeping the live ones in a min-heap by last use (in by_offset_)
  // to drop them once their last op has passed. O(n log n).
  SortBy(Order::kFirstUse);
  uint16_t* heap = by_offset_;
  uint16_t heap_size = 0;
  const auto last_of = [&](uint16_t slot) { return entries_[heap[slot]].last; };
  uint64_t live = 0;
  uint64_t best = 0;
  uint16_t started = 0;
  while (started < count_) {
    const uint16_t op = entries_[order_[started]].first;
    // Drop the buffers whose last op is before `op`.
    while (heap_size > 0 && last_of(0) < op) {
      live -= entries_[heap[0]].bytes;
      const uint16_t moved = heap[--heap_size];
      uint16_t slot = 0;
      for (;;) {
        uint16_t child = static_cast<uint16_t>(2 * slot + 1);
        if (child >= heap_size) break;
        if (child + 1 < heap_size && last_of(child + 1) < last_of(child)) {
          ++child;
        }
        if (entries_[moved].last <= last_of(child)) break;
        heap[slot] = heap[child];
        slot = child;
      }
      heap[slot] = moved;
    }
    // Add the buffers that start at `op`.
    for (; started < count_ && entries_[order_[started]].first == op;
         ++started) {
      const uint16_t buffer = order_[started];
      live += entries_[buffer].bytes;
      uint16_t slot = heap_size++;
      while (slot > 0 && entries_[buffer].last < last_of((slot - 1) / 2)) {
        heap[slot] = heap[(slot - 1) / 2];
        slot = static_cast<uint16_t>((slot - 1) / 2);
      }
      heap[slot] = buffer;
    }
    if (live > best) best = live;
  }
  return best > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(best);
}

uint64_t GreedyPlanner::PlaceInOrder(Order order, uint64_t limit) {
  SortBy(order);
  uint64_t peak = 0;
  for (uint16_t placed = 0; placed < count_; ++placed) {
    const uint16_t buffer = order_[placed];
    Entry& e = entries_[buffer];
    // Walk the placed buffers by offset; only those live at the same time as
    // `e` matter. The first gap below one of them that fits `e` is the lowest.
    // Liveness is folded in arithmetically rather than branched on: most
    // placed buffers are not live with `e`, in no predictable pattern.
    uint64_t candidate = 0;
    uint16_t k = 0;
    for (; k < placed; ++k) {
      const Entry& p = entries_[by_offset_[k]];
      const bool live = (p.last >= e.first) & (e.last >= p.first);
      const bool above = p.trial_offset >= candidate + e.bytes;
      if (live & above) break;
      // The end of `p` if live, else 0.
      const uint64_t end =
          (uint64_t{p.trial_offset} + p.bytes) & (0 - uint64_t{live});
      if (end > candidate) candidate = end;
    }
    const uint64_t end = candidate + e.bytes;
    // Past `limit` this order cannot win (ties go to the earlier order).
    if (end > UINT32_MAX || end >= limit) return end;
    e.trial_offset = static_cast<uint32_t>(candidate);
    if (end > peak) peak = end;

    // Buffers from k on start at or above `candidate`, so `e` goes at k or,
    // past skipped buffers that start above it, a little before. (The order
    // among equal offsets does not change any later placement.)
    while (k > 0 && entries_[by_offset_[k - 1]].trial_offset > candidate) --k;
    memmove(by_offset_ + k + 1, by_offset_ + k,
            (placed - k) * sizeof(by_offset_[0]));
    by_offset_[k] = buffer;
  }
  return peak;
}

Status GreedyPlanner::Plan() {
  static constexpr Order kOrders[] = {Order::kSize, Order::kFirstUse,
                                      Order::kLifetime};
  lower_bound_ = ComputeLowerBound();
  uint64_t best = UINT64_MAX;
  for (Order order : kOrders) {
    const uint64_t peak = PlaceInOrder(order, best);
    if (peak >= best) continue;
    best = peak;
    for (uint16_t i = 0; i < count_; ++i) {
      entries_[i].offset = entries_[i].trial_offset;
    }
    // No order can go below the bound, nor win a tie against this one.
    if (best <= lower_bound_) break;
  }
  if (best > UINT32_MAX) {
    peak_ = 0;
    return Status::kPlanFailed;
  }
  peak_ = static_cast<uint32_t>(best);
  return Status::kOk;
}

uint32_t GreedyPlanner::OffsetOf(uint16_t buffer) const {
  return buffer < count_ ? entries_[buffer].offset : 0;
}

uint32_t GreedyPlanner::PeakBytes() const { return peak_; }

}  // namespace mcunas::engine
