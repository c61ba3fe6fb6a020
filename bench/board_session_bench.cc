// What one model measurement costs on a persistent emulated board (QEMU
// started and the runner firmware loaded once): write the blob into the
// board's model region, load it (CRC checked on the board), stage the input,
// run it 3 times, read the outputs back. The models are ~200 KB MBNet
// candidates with few MACs; two of them alternate so that every iteration
// really writes a blob. See docs/benchmarks.md.
//
//   build-devices/bench/mcunas_board_session_bench --benchmark_repetitions=5
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
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

void BM_LoadAndRunThreeTimes(benchmark::State& state, const char* board_name,
                             bool rewrite_blob) {
  absl::StatusOr<BoardCatalog> catalog =
      BoardCatalog::Load(DefaultCatalogPath());
  absl::StatusOr<BoardProfile> board =
      catalog.ok() ? catalog->Find(board_name) : catalog.status();
  absl::StatusOr<std::string> firmware =
      board.ok() ? FindFirmware(*board, DefaultFirmwareDirs())
                 : board.status();
  if (!firmware.ok()) {
    state.SkipWithError(std::string(firmware.status().message()).c_str());
    return;
  }
  std::vector<testing::TestModel> models;
  for (uint32_t seed : {1u, 2u}) {
    absl::StatusOr<testing::TestModel> m = Model200K(seed);
    if (!m.ok()) {
      state.SkipWithError(std::string(m.status().message()).c_str());
      return;
    }
    models.push_back(*m);
  }
  EmulatedBoard device(*board, *firmware, DeviceOptions{});
  absl::Status prepared = device.Prepare();
  if (!prepared.ok()) {
    state.SkipWithError(std::string(prepared.message()).c_str());
    return;
  }
  RunOptions options;
  options.runs = 3;
  double instructions = 0;
  size_t i = 0;
  for (auto _ : state) {
    const testing::TestModel& m = models[rewrite_blob ? i++ % 2 : 0];
    absl::StatusOr<RunResult> result = device.Run(m.blob, m.input, options);
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      return;
    }
    instructions = result->stats.median;
    benchmark::DoNotOptimize(result->outputs.data());
  }
  state.counters["blob_bytes"] = static_cast<double>(models[0].blob.size());
  state.counters["instructions_per_run"] = instructions;
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

}  // namespace
}  // namespace mcunas::devices

BENCHMARK_MAIN();
