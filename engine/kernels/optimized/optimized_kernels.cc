// OptimizedKernels(): picks the platform set this build compiled in.

#include "engine/kernels/optimized/platform_kernels.h"
#include "mcunas/engine/kernels.h"

namespace mcunas::engine {

const KernelSet& OptimizedKernels() {
#if defined(MCUNAS_KERNELS_X86)
  return optimized::X86Kernels();
#elif defined(MCUNAS_KERNELS_ARM) && defined(__ARM_FEATURE_DSP)
  return optimized::ArmDspKernels();
#else
  return ReferenceKernels();
#endif
}

}  // namespace mcunas::engine
