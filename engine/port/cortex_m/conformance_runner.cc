#include "conformance_runner.h"

#include <stdint.h>

#include "engine/kernels/conformance.h"
#include "mcunas/engine/kernels.h"
#include "text_line.h"

namespace mcunas::engine::port {
namespace {

alignas(16) uint8_t g_work[kConformanceWorkBytes];

}  // namespace

bool RunConformance(const char* cpu_name) {
  const ConformanceResult result =
      RunKernelConformance(OptimizedKernels(), g_work, sizeof(g_work));
  TextLine line;
  line.Add("conformance ")
      .Add(cpu_name)
      .Add(": ")
      .Add(result.cases)
      .Add(" cases, ")
      .Add(result.mismatches)
      .Add(" mismatches")
      .Print();
  if (result.mismatches > 0) {
    line.Add("first failure: ")
        .Add(result.first_failure, sizeof(result.first_failure))
        .Print();
  }
  return result.cases > 0 && result.mismatches == 0;
}

}  // namespace mcunas::engine::port
