// Bare-metal link check and on-board self test of the engine runtime.
//
// Linking this program proves the runtime builds for the core without heap,
// exceptions or RTTI support: main() reaches every runtime entry point, so
// scripts/cross_build can list the symbols the firmware really pulls in. Run
// on QEMU (or a board under a debugger with semihosting) it also plans a small
// inverted-residual chain, checks that the loader rejects a blank blob, runs
// the kernel conformance table (the optimised kernels against the reference
// ones) and runs the board fixture's whole models with both kernel sets
// against the host engine's outputs (model_runner.h). Exit code: 0 pass,
// 1 check failed, 3 fault (startup.c).
#include <stdint.h>

#include "conformance_runner.h"
#include "mcunas/engine/interpreter.h"
#include "mcunas/engine/kernels.h"
#include "mcunas/engine/memory_planner.h"
#include "mcunas/engine/model.h"
#include "mcunas/engine/status.h"
#include "model_runner.h"
#include "semihosting.h"
#include "text_line.h"

#ifndef MCUNAS_CPU_NAME
#define MCUNAS_CPU_NAME "cortex-m"
#endif

namespace mcunas::engine::port {
namespace {

// Static, 16-byte aligned buffers: the firmware owns all memory up front.
alignas(16) uint8_t g_model_blob[256];
alignas(16) uint8_t g_arena[4096];
alignas(4) uint8_t g_planner_scratch[2048];

// Plans the buffers of two inverted-residual blocks (28x28x8 input, expand 3,
// residual then stride 2) with both planners and checks greedy against the
// linear plan and the live-bytes bound, so the planner is exercised with the
// target's compiler and ABI, not just linked.
bool CheckPlanner() {
  struct Buffer {
    uint32_t bytes;
    uint16_t first, last;
  };
  static constexpr Buffer kBuffers[] = {
      {28 * 28 * 8, 0, 3},  {28 * 28 * 24, 0, 1}, {28 * 28 * 24, 1, 2},
      {28 * 28 * 8, 2, 3},  {28 * 28 * 8, 3, 4},  {28 * 28 * 24, 4, 5},
      {14 * 14 * 24, 5, 6}, {14 * 14 * 16, 6, 6},
  };
  constexpr uint16_t kCount = sizeof(kBuffers) / sizeof(kBuffers[0]);
  uint32_t bytes[kCount];
  uint16_t first[kCount];
  uint16_t last[kCount];

  GreedyPlanner greedy(g_planner_scratch, sizeof(g_planner_scratch));
  for (uint16_t i = 0; i < kCount; ++i) {
    bytes[i] = kBuffers[i].bytes;
    first[i] = kBuffers[i].first;
    last[i] = kBuffers[i].last;
    if (greedy.AddBuffer(bytes[i], first[i], last[i]) != Status::kOk) {
      return false;
    }
  }
  if (greedy.Plan() != Status::kOk) return false;
  const uint32_t greedy_peak = greedy.PeakBytes();
  const uint32_t bound = LiveBytesLowerBound(bytes, first, last, kCount);

  // The scratch is reused: the greedy plan is no longer needed.
  LinearPlanner linear(g_planner_scratch, sizeof(g_planner_scratch));
  for (uint16_t i = 0; i < kCount; ++i) {
    if (linear.AddBuffer(bytes[i], first[i], last[i]) != Status::kOk) {
      return false;
    }
  }
  if (linear.Plan() != Status::kOk) return false;

  TextLine line;
  line.Add("planner " MCUNAS_CPU_NAME ": greedy ")
      .Add(greedy_peak)
      .Add(" B, lower bound ")
      .Add(bound)
      .Add(" B, linear ")
      .Add(linear.PeakBytes())
      .Add(" B")
      .Print();
  return bound <= greedy_peak && greedy_peak <= linear.PeakBytes();
}

// Loads whatever is in g_model_blob (zeros unless a debugger wrote a model
// there) and, if it is valid, runs it once with the optimised kernels. A
// blank blob must be rejected.
bool CheckModel() {
  Model model;
  Diagnostic diagnostic;
  const Status status = Model::Load(g_model_blob, sizeof(g_model_blob),
                                    LoadOptions{}, &model, &diagnostic);
  TextLine line;
  line.Add("model " MCUNAS_CPU_NAME ": load ").Add(StatusName(status));
  if (status != Status::kOk) {
    line.Print();
    return true;  // any error will do: the loader rejected the blob
  }
  Interpreter interpreter(model, OptimizedKernels());
  Status run = interpreter.Init(g_arena, sizeof(g_arena));
  if (run == Status::kOk) run = interpreter.Invoke();
  line.Add(", invoke ").Add(StatusName(run)).Print();
  return run == Status::kOk;
}

int Run() {
  TextLine banner;
  banner.Add("mcunas link check " MCUNAS_CPU_NAME ": reference kernels '")
      .Add(ReferenceKernels().name)
      .Add("', optimised kernels '")
      .Add(OptimizedKernels().name)
      .Add("'")
      .Print();
  bool ok = CheckPlanner();
  ok = CheckModel() && ok;
  ok = RunConformance(MCUNAS_CPU_NAME) && ok;
  ok = RunBoardModels(MCUNAS_CPU_NAME) && ok;
  SemihostWrite(ok ? "link check: pass\n" : "link check: FAIL\n");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace mcunas::engine::port

int main() { return mcunas::engine::port::Run(); }
