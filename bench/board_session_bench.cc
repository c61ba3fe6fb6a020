// What one model measurement costs on a persistent emulated board (QEMU
// started and the runner firmware loaded once): write the blob into the
// board's model region, load it, stage the input, run it 3 times, read the
// outputs back. The models are ~200 KB MBNet candidates with few MACs; two
// of them alternate so that every iteration really writes a blob. The time
// splits into a fixed part per command and a part per emulated instruction;
// BM_FixedAndPerInstruction measures the two apart (the first from a ping
// and from 1 against 11 runs of one model). See docs/benchmarks.md.
//
//   build-devices/bench/mcunas_board_session_bench --benchmark_repetitions=5
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/devices/board_catalog.h"
#include "mcunas/devices/device.h"
#include "mcunas/devices/emulated_board.h"
#include "test_models.h"

namespace mcunas::devices {
namespace {

// A wide candidate at a low resolution: ~200 KB of blob, few MACs.
absl::StatusOr<testing::TestModel> Model200K(uint32_t seed) {
  engine::RandomMbv2Options o;
  o.resolution = 8;
  o.input_channels = 3;
  o.width_multiplier = 1.0f;
  o.stem_stride = 1;
  o.samples_per_class = 2;
  o.stages = {{16, 1, 1, 1}, {24, 1, 2}, {32, 1, 2}, {64, 2, 2}, {96, 1, 1}};
  o.head_channels = 640;
  return testing::MakeModel("200 KB candidate", seed, o);
}

// The board and the two models, or why not (then the benchmark is skipped).
struct Setup {
  std::unique_ptr<EmulatedBoard> device;
  std::vector<testing::TestModel> models;
};

absl::StatusOr<Setup> MakeSetup(const char* board_name) {
  MCUNAS_ASSIGN_OR_RETURN(BoardCatalog catalog,
                          BoardCatalog::Load(DefaultCatalogPath()));
  MCUNAS_ASSIGN_OR_RETURN(BoardProfile board, catalog.Find(board_name));
  MCUNAS_ASSIGN_OR_RETURN(std::string firmware,
                          FindFirmware(board, DefaultFirmwareDirs()));
  Setup setup;
  for (uint32_t seed : {1u, 2u}) {
    MCUNAS_ASSIGN_OR_RETURN(testing::TestModel m, Model200K(seed));
    setup.models.push_back(std::move(m));
  }
  setup.device =
      std::make_unique<EmulatedBoard>(board, firmware, DeviceOptions{});
  MCUNAS_RETURN_IF_ERROR(setup.device->Prepare());
  return setup;
}

void BM_LoadAndRunThreeTimes(benchmark::State& state, const char* board_name,
                             bool rewrite_blob) {
  absl::StatusOr<Setup> setup = MakeSetup(board_name);
  if (!setup.ok()) {
    state.SkipWithError(std::string(setup.status().message()).c_str());
    return;
  }
  EmulatedBoard& device = *setup->device;
  const std::vector<testing::TestModel>& models = setup->models;
  RunOptions options;
  options.runs = 3;
  double instructions = 0;
  size_t i = 0;
  for (auto _ : state) {
    const size_t model = rewrite_blob ? i++ % 2 : 0;
    const testing::TestModel& m = models[model];
    absl::StatusOr<RunResult> result = device.Run(m.blob, m.input, options);
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      return;
    }
    // The first model's count, whichever model ran last.
    if (model == 0) instructions = result->stats.median;
    benchmark::DoNotOptimize(result->outputs.data());
  }
  state.counters["blob_bytes"] = static_cast<double>(models[0].blob.size());
  state.counters["instructions_per_run"] = instructions;
}

// Per iteration: a ping (an empty command: the fixed cost of any command),
// then the first model resident and loaded, run once and 11 times. The
// difference is 10 runs' worth of emulated instructions.
void BM_FixedAndPerInstruction(benchmark::State& state,
                               const char* board_name) {
  absl::StatusOr<Setup> setup = MakeSetup(board_name);
  if (!setup.ok()) {
    state.SkipWithError(std::string(setup.status().message()).c_str());
    return;
  }
  EmulatedBoard& device = *setup->device;
  const testing::TestModel& m = setup->models[0];
  RunOptions once;
  RunOptions eleven;
  eleven.runs = 11;
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start)
        .count();
  };
  double ping_ms = 0;
  double once_ms = 0;
  double eleven_ms = 0;
  double instructions = 0;
  for (auto _ : state) {
    Clock::time_point start = Clock::now();
    absl::Status ping = device.Health();
    ping_ms += ms_since(start);
    start = Clock::now();
    absl::StatusOr<RunResult> one = device.Run(m.blob, m.input, once);
    once_ms += ms_since(start);
    start = Clock::now();
    absl::StatusOr<RunResult> many = device.Run(m.blob, m.input, eleven);
    eleven_ms += ms_since(start);
    if (!ping.ok() || !one.ok() || !many.ok()) {
      state.SkipWithError("a command failed");
      return;
    }
    instructions = one->stats.median;
  }
  const double n = static_cast<double>(state.iterations());
  const double per_run_ms = (eleven_ms - once_ms) / (10 * n);
  state.counters["ping_ms"] = ping_ms / n;
  state.counters["run_command_fixed_ms"] = once_ms / n - per_run_ms;
  state.counters["per_run_ms"] = per_run_ms;
  state.counters["instructions_per_run"] = instructions;
  state.counters["M_instructions_per_s"] = instructions / per_run_ms / 1e3;
}

BENCHMARK_CAPTURE(BM_LoadAndRunThreeTimes, qemu_m4_new_blob, "qemu-m4", true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_LoadAndRunThreeTimes, qemu_m4_resident_blob, "qemu-m4",
                  false)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_LoadAndRunThreeTimes, qemu_m33_new_blob, "qemu-m33", true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_FixedAndPerInstruction, qemu_m4, "qemu-m4")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace mcunas::devices

BENCHMARK_MAIN();
