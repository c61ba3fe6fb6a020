// Kernel conformance: proves a KernelSet byte-identical to ReferenceKernels()
// over a fixed table of shapes, on any target (the host test and the
// emulated Cortex-M boards run the same table).
//
// The table is deterministic (a fixed-seed xorshift PRNG picks sizes,
// weights, zero points, multipliers, shifts and clamps), so a failure
// reproduces anywhere. Per op there are >= 50 cases: conv (stem k3 s2, 1x1,
// k3/5/7 and non-square kernels, odd pads), depthwise (k3/5/7, s1/s2, in
// place and not, depth multiplier 1-3), add (including output aliasing an
// input), average pool (global and windowed) and fully connected; sizes are
// odd and channel counts mostly not multiples of 4. Besides the output bytes,
// each case checks that the candidate stayed inside its output and scratch
// and left its input untouched.
//
// Engine runtime code: no heap, no stdio; everything lives in the caller's
// work buffer (256 KiB is enough). Thread-compatible.
#ifndef MCUNAS_ENGINE_KERNELS_CONFORMANCE_H_
#define MCUNAS_ENGINE_KERNELS_CONFORMANCE_H_

#include <stdint.h>

#include "mcunas/engine/kernels.h"

namespace mcunas::engine {

struct ConformanceResult {
  uint32_t cases;          // cases run
  uint32_t mismatches;     // cases whose candidate differed or misbehaved
  char first_failure[96];  // NUL-terminated description; "" when none
};

enum class ConformanceOp : uint8_t {
  kConv = 0,
  kDepthwise = 1,
  kAdd = 2,
  kAveragePool = 3,
  kFullyConnected = 4,
};
inline constexpr uint32_t kConformanceOpCount = 5;

// Work buffer size that every case of the table fits in.
inline constexpr uint32_t kConformanceWorkBytes = 256 * 1024;

// Runs the whole table: every op's cases. A work buffer too small for a case
// counts as a mismatch (so it cannot pass silently).
ConformanceResult RunKernelConformance(const KernelSet& candidate,
                                       uint8_t* work, uint32_t work_bytes);

// Runs one op's cases only.
ConformanceResult RunKernelConformanceForOp(ConformanceOp op,
                                            const KernelSet& candidate,
                                            uint8_t* work, uint32_t work_bytes);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_KERNELS_CONFORMANCE_H_
