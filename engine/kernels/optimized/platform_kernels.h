// The per-platform optimised kernel sets behind OptimizedKernels(). Private to
// engine/kernels/; each is compiled only for its target family (see
// engine/kernels/CMakeLists.txt). The sets are immutable; thread-safe.
#ifndef MCUNAS_ENGINE_KERNELS_OPTIMIZED_PLATFORM_KERNELS_H_
#define MCUNAS_ENGINE_KERNELS_OPTIMIZED_PLATFORM_KERNELS_H_

#include "mcunas/engine/kernels.h"

namespace mcunas::engine::optimized {

// x86-64: SSE2 everywhere, AVX2 where the CPU has it (checked once).
const KernelSet& X86Kernels();
// Its two variants, for tests and benchmarks; the AVX2 one is null on a CPU
// without AVX2.
const KernelSet& X86Sse2Kernels();
const KernelSet* X86Avx2Kernels();

// Cortex-M with the DSP extension (M4, M7, M33 with DSP): SMLAD/SXTB16.
const KernelSet& ArmDspKernels();

}  // namespace mcunas::engine::optimized

#endif  // MCUNAS_ENGINE_KERNELS_OPTIMIZED_PLATFORM_KERNELS_H_
