#include "host_device.h"

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "device_internal.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/interpreter.h"
#include "mcunas/engine/kernels.h"

namespace mcunas::devices {
namespace {

using Clock = std::chrono::steady_clock;

double NanosSince(Clock::time_point start) {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() -
                                                           start)
          .count());
}

// A loaded model with its interpreter over a 16-byte aligned arena.
struct HostRun {
  std::unique_ptr<engine::LoadedModel> model;
  std::unique_ptr<uint8_t[]> storage;
  std::unique_ptr<engine::Interpreter> interpreter;

  void StageInputs(const std::vector<int8_t>& inputs) {
    const int8_t* from = inputs.data();
    for (uint16_t i = 0; i < model->model().input_count(); ++i) {
      std::memcpy(interpreter->Input(i), from, interpreter->InputBytes(i));
      from += interpreter->InputBytes(i);
    }
  }
};

absl::StatusOr<HostRun> Setup(const BoardProfile& board,
                              const std::vector<uint8_t>& blob,
                              const std::vector<int8_t>& inputs,
                              const RunOptions& options) {
  if (options.runs < 1 || options.warmup < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("runs must be >= 1 and warmup >= 0 (got ", options.runs,
                     " and ", options.warmup, ")"));
  }
  HostRun run;
  MCUNAS_ASSIGN_OR_RETURN(run.model, engine::LoadedModel::FromBytes(blob));
  const engine::Model& model = run.model->model();
  MCUNAS_RETURN_IF_ERROR(CheckBudgets(board, model));
  MCUNAS_RETURN_IF_ERROR(CheckInputBytes(model, inputs));
  const uint32_t arena_bytes = model.arena_bytes();
  run.storage = std::make_unique<uint8_t[]>(arena_bytes + engine::kArenaAlignment);
  uint8_t* arena = run.storage.get();
  arena += (engine::kArenaAlignment -
            reinterpret_cast<uintptr_t>(arena) % engine::kArenaAlignment) %
           engine::kArenaAlignment;
  run.interpreter = std::make_unique<engine::Interpreter>(
      model, options.reference_kernels ? engine::ReferenceKernels()
                                       : engine::OptimizedKernels());
  const engine::Status init = run.interpreter->Init(arena, arena_bytes);
  if (init != engine::Status::kOk) {
    return absl::InternalError(
        absl::StrCat("interpreter init: ", engine::StatusName(init)));
  }
  return run;
}

}  // namespace

absl::StatusOr<RunResult> HostDevice::Run(const std::vector<uint8_t>& blob,
                                          const std::vector<int8_t>& inputs,
                                          const RunOptions& options) {
  MCUNAS_ASSIGN_OR_RETURN(HostRun run, Setup(board_, blob, inputs, options));
  RunResult result;
  result.unit = LatencyUnit::kNanoseconds;
  for (int32_t i = 0; i < options.warmup + options.runs; ++i) {
    run.StageInputs(inputs);
    const Clock::time_point start = Clock::now();
    const engine::Status status = run.interpreter->Invoke();
    const double ns = NanosSince(start);
    if (status != engine::Status::kOk) {
      return absl::InternalError(
          absl::StrCat("invoke: ", engine::StatusName(status)));
    }
    if (i >= options.warmup) result.latencies.push_back(ns);
  }
  const engine::Model& model = run.model->model();
  for (uint16_t i = 0; i < model.output_count(); ++i) {
    const int8_t* out = run.interpreter->Output(i);
    result.outputs.insert(result.outputs.end(), out,
                          out + run.interpreter->OutputBytes(i));
  }
  result.stats = Summarize(result.latencies);
  return result;
}

absl::StatusOr<std::vector<double>> HostDevice::ProfileOps(
    const std::vector<uint8_t>& blob, const std::vector<int8_t>& inputs,
    const RunOptions& options) {
  MCUNAS_ASSIGN_OR_RETURN(HostRun run, Setup(board_, blob, inputs, options));
  const uint16_t ops = run.model->model().op_count();
  // Median over the runs of each op, after the warm-up runs.
  std::vector<std::vector<double>> samples(ops);
  for (int32_t r = 0; r < options.warmup + options.runs; ++r) {
    run.StageInputs(inputs);
    for (uint16_t op = 0; op < ops; ++op) {
      const Clock::time_point start = Clock::now();
      const engine::Status status = run.interpreter->InvokeOp(op);
      const double ns = NanosSince(start);
      if (status != engine::Status::kOk) {
        return absl::InternalError(absl::StrCat(
            "invoke op ", op, ": ", engine::StatusName(status)));
      }
      if (r >= options.warmup) samples[op].push_back(ns);
    }
  }
  std::vector<double> per_op;
  for (std::vector<double>& s : samples) {
    per_op.push_back(Summarize(std::move(s)).median);
  }
  return per_op;
}

}  // namespace mcunas::devices
