// The kernels compiled for AVX2 + FMA (this file gets -mavx2 -mfma on x86-64
// only); Avx2Kernels() returns them when the CPU has both.
#include "kernels.h"

#if defined(__AVX2__) && defined(__FMA__)
#define MCUNAS_KERNEL_TABLE kAvx2Table
#define MCUNAS_KERNEL_TABLE_NAME "avx2"
#include "kernels_impl.inc"

namespace mcunas::supernet::internal {
const KernelTable* Avx2Kernels() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return &kAvx2Table;
  }
  return nullptr;
}
}  // namespace mcunas::supernet::internal
#else
namespace mcunas::supernet::internal {
const KernelTable* Avx2Kernels() { return nullptr; }
}  // namespace mcunas::supernet::internal
#endif
