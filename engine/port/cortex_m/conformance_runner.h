// Runs the kernel conformance table (engine/kernels/conformance.h) on the
// board it was built for: OptimizedKernels() against ReferenceKernels().
// Uses a static work buffer of kConformanceWorkBytes. Not reentrant.
#ifndef MCUNAS_ENGINE_PORT_CORTEX_M_CONFORMANCE_RUNNER_H_
#define MCUNAS_ENGINE_PORT_CORTEX_M_CONFORMANCE_RUNNER_H_

namespace mcunas::engine::port {

// Prints "conformance <cpu_name>: N cases, M mismatches" (and the first
// failure, if any) through semihosting. True when at least one case ran and
// none mismatched.
bool RunConformance(const char* cpu_name);

}  // namespace mcunas::engine::port

#endif  // MCUNAS_ENGINE_PORT_CORTEX_M_CONFORMANCE_RUNNER_H_
