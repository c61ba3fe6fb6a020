#include "mcunas/engine/host/quant_graph.h"

namespace mcunas::engine {

SamePadding ComputeSamePadding(int32_t in, int32_t kernel, int32_t stride) {
  // TFLite: out = ceil(in / stride); total padding so that the last window
  // ends at the last input row; the smaller half goes before.
  const int32_t out = (in + stride - 1) / stride;
  int32_t total = (out - 1) * stride + kernel - in;
  if (total < 0) total = 0;
  return {out, total / 2, total - total / 2};
}

}  // namespace mcunas::engine
