#include "mcunas/engine/memory_planner.h"

#include <stdint.h>

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
  return uint32_t{max_buffers} * (sizeof(Entry) + 2 * sizeof(uint16_t));
}

GreedyPlanner::GreedyPlanner(void* scratch, uint32_t scratch_bytes)
    : capacity_(CapacityFor(scratch, scratch_bytes,
                            sizeof(Entry) + 2 * sizeof(uint16_t))) {
  // Layout: Entry[capacity] | order[capacity] | by_offset[capacity]. Entry
  // holds 4-byte fields, so the uint16_t arrays after it stay aligned.
  uint8_t* base = static_cast<uint8_t*>(scratch);
  entries_ = reinterpret_cast<Entry*>(base);
  order_ = reinterpret_cast<uint16_t*>(base + capacity_ * sizeof(Entry));
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

bool GreedyPlanner::Before(uint16_t a, uint16_t b, Order order) const {
  const Entry& x = entries_[a];
  const Entry& y = entries_[b];
  switch (order) {
    case Order::kSize:
      if (x.bytes != y.bytes) return x.bytes > y.bytes;
      if (x.first != y.first) return x.first < y.first;
      break;
    case Order::kFirstUse:
      if (x.first != y.first) return x.first < y.first;
      if (x.bytes != y.bytes) return x.bytes > y.bytes;
      break;
    case Order::kLifetime: {
      const uint16_t x_span = x.last - x.first;
      const uint16_t y_span = y.last - y.first;
      if (x_span != y_span) return x_span > y_span;
      if (x.bytes != y.bytes) return x.bytes > y.bytes;
      break;
    }
  }
  return a < b;
}

uint64_t GreedyPlanner::PlaceInOrder(Order order) {
  // Insertion sort: O(n^2) worst case like the placement below, and no
  // recursion or extra memory.
  for (uint16_t i = 0; i < count_; ++i) {
    uint16_t j = i;
    while (j > 0 && Before(i, order_[j - 1], order)) {
      order_[j] = order_[j - 1];
      --j;
    }
    order_[j] = i;
  }

  uint64_t peak = 0;
  for (uint16_t placed = 0; placed < count_; ++placed) {
    Entry& e = entries_[order_[placed]];
    // Walk the placed buffers by offset; only those live at the same time as
    // `e` matter. The first gap below one of them that fits `e` is the lowest.
    uint64_t candidate = 0;
    for (uint16_t k = 0; k < placed; ++k) {
      const Entry& p = entries_[by_offset_[k]];
      if (p.last < e.first || e.last < p.first) continue;
      if (p.trial_offset >= candidate + e.bytes) break;
      const uint64_t end = uint64_t{p.trial_offset} + p.bytes;
      if (end > candidate) candidate = end;
    }
    const uint64_t end = candidate + e.bytes;
    if (end > UINT32_MAX) return end;
    e.trial_offset = static_cast<uint32_t>(candidate);
    if (end > peak) peak = end;

    uint16_t k = placed;
    while (k > 0 && entries_[by_offset_[k - 1]].trial_offset > e.trial_offset) {
      by_offset_[k] = by_offset_[k - 1];
      --k;
    }
    by_offset_[k] = order_[placed];
  }
  return peak;
}

Status GreedyPlanner::Plan() {
  static constexpr Order kOrders[] = {Order::kSize, Order::kFirstUse,
                                      Order::kLifetime};
  uint64_t best = UINT64_MAX;
  for (Order order : kOrders) {
    const uint64_t peak = PlaceInOrder(order);
    if (peak >= best) continue;
    best = peak;
    for (uint16_t i = 0; i < count_; ++i) {
      entries_[i].offset = entries_[i].trial_offset;
    }
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
