#include "board_commands.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "mcunas/devices/board_catalog.h"
#include "mcunas/devices/device.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/model_format.h"

namespace mcunas::tools {
namespace {

using devices::BoardCatalog;
using devices::BoardProfile;

int Fail(const absl::Status& status) {
  std::cerr << "mcunas-board: " << status.message() << "\n";
  return 1;
}

absl::StatusOr<std::vector<uint8_t>> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(file)),
                              std::istreambuf_iterator<char>());
}

absl::StatusOr<BoardCatalog> LoadCatalog(const BoardFlags& flags) {
  return BoardCatalog::Load(flags.catalog.empty()
                                ? devices::DefaultCatalogPath()
                                : flags.catalog);
}

std::string Size(uint32_t bytes) {
  if (bytes % (1024 * 1024) == 0) return absl::StrCat(bytes >> 20, " MiB");
  if (bytes % 1024 == 0) return absl::StrCat(bytes >> 10, " KiB");
  return absl::StrCat(bytes, " B");
}

std::string Reach(const BoardProfile& b) {
  switch (b.kind) {
    case devices::BoardKind::kHost:
      return "in process";
    case devices::BoardKind::kQemu:
      return absl::StrCat("qemu-system-arm -M ", b.qemu_machine,
                          " -icount shift=", b.icount_shift);
    case devices::BoardKind::kOpenOcd:
      return absl::StrCat("openocd -f ",
                          absl::StrJoin(b.openocd_configs, " -f "),
                          b.adapter_serial.empty()
                              ? ""
                              : absl::StrCat(" (serial ", b.adapter_serial,
                                             ")"));
  }
  return "";
}

struct OpenBoard {
  BoardProfile profile;
  std::unique_ptr<devices::Device> device;
};

absl::StatusOr<OpenBoard> Open(const std::string& name,
                               const BoardFlags& flags) {
  absl::StatusOr<BoardCatalog> catalog = LoadCatalog(flags);
  if (!catalog.ok()) return catalog.status();
  absl::StatusOr<BoardProfile> profile = catalog->Find(name);
  if (!profile.ok()) return profile.status();
  devices::DeviceOptions options;
  if (!flags.firmware_dir.empty()) options.firmware_dirs = {flags.firmware_dir};
  options.adapter_serial = flags.adapter_serial;
  absl::StatusOr<std::unique_ptr<devices::Device>> device =
      devices::OpenDevice(*profile, options);
  if (!device.ok()) return device.status();
  return OpenBoard{*profile, std::move(*device)};
}

devices::RunOptions Options(const BoardFlags& flags) {
  devices::RunOptions options;
  options.timeout = absl::Seconds(flags.timeout_seconds);
  options.reference_kernels = flags.reference_kernels;
  return options;
}

std::string Latency(double value, devices::LatencyUnit unit) {
  if (unit == devices::LatencyUnit::kNanoseconds) {
    return absl::StrFormat("%.3f ms (wall clock)", value / 1e6);
  }
  return absl::StrFormat("%.0f %s", value, devices::LatencyUnitName(unit));
}

}  // namespace

int ListCommand(const BoardFlags& flags) {
  absl::StatusOr<BoardCatalog> catalog = LoadCatalog(flags);
  if (!catalog.ok()) return Fail(catalog.status());
  std::printf("%-17s %-8s %-10s %8s %9s %9s  %-22s %s\n", "board", "kind",
              "core", "clock", "SRAM", "flash", "latency unit", "reached by");
  for (const BoardProfile& b : catalog->boards()) {
    const std::string clock =
        b.clock_hz == 0 ? "-" : absl::StrCat(b.clock_hz / 1000000, " MHz");
    std::printf("%-17s %-8s %-10s %8s %9s %9s  %-22s %s\n", b.name.c_str(),
                std::string(devices::BoardKindName(b.kind)).c_str(),
                b.core.c_str(), clock.c_str(), Size(b.sram_budget).c_str(),
                Size(b.flash_budget).c_str(),
                std::string(devices::LatencyUnitName(b.latency_unit)).c_str(),
                Reach(b).c_str());
  }
  return 0;
}

int RunCommand(const std::string& board, const std::string& model_path,
               const std::string& input_path, const std::string& output_path,
               const BoardFlags& flags) {
  absl::StatusOr<std::vector<uint8_t>> blob = ReadFile(model_path);
  if (!blob.ok()) return Fail(blob.status());
  absl::StatusOr<std::vector<uint8_t>> input = ReadFile(input_path);
  if (!input.ok()) return Fail(input.status());
  absl::StatusOr<OpenBoard> open = Open(board, flags);
  if (!open.ok()) return Fail(open.status());
  absl::StatusOr<devices::RunResult> result = open->device->Run(
      *blob, std::vector<int8_t>(input->begin(), input->end()),
      Options(flags));
  if (!result.ok()) return Fail(result.status());
  std::printf("%s: %s\n", board.c_str(),
              Latency(result->stats.median, result->unit).c_str());
  if (output_path.empty()) {
    std::vector<int> values(result->outputs.begin(), result->outputs.end());
    std::printf("outputs: %s\n", absl::StrJoin(values, " ").c_str());
    return 0;
  }
  std::ofstream out(output_path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(result->outputs.data()),
            static_cast<std::streamsize>(result->outputs.size()));
  if (!out) return Fail(absl::InternalError("cannot write " + output_path));
  std::printf("wrote %zu output bytes to %s\n", result->outputs.size(),
              output_path.c_str());
  return 0;
}

int BenchCommand(const std::string& board, const std::string& model_path,
                 int runs, int warmup, const BoardFlags& flags) {
  absl::StatusOr<std::vector<uint8_t>> blob = ReadFile(model_path);
  if (!blob.ok()) return Fail(blob.status());
  absl::StatusOr<std::unique_ptr<engine::LoadedModel>> model =
      engine::LoadedModel::FromBytes(*blob);
  if (!model.ok()) return Fail(model.status());
  uint32_t input_bytes = 0;
  const engine::Model& m = (*model)->model();
  for (uint16_t i = 0; i < m.input_count(); ++i) {
    input_bytes += m.tensor(m.input(i)).bytes;
  }
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::vector<int8_t> input(input_bytes);
  for (int8_t& v : input) v = static_cast<int8_t>(byte(rng));

  absl::StatusOr<OpenBoard> open = Open(board, flags);
  if (!open.ok()) return Fail(open.status());
  devices::RunOptions options = Options(flags);
  options.runs = runs;
  options.warmup = warmup;
  absl::StatusOr<devices::RunResult> result =
      open->device->Run(*blob, input, options);
  if (!result.ok()) return Fail(result.status());
  const devices::LatencyStats& s = result->stats;
  std::printf("%s, %s: median %s over %d runs (after %d warm-up)\n",
              board.c_str(), model_path.c_str(),
              Latency(s.median, result->unit).c_str(), s.n, warmup);
  std::printf("  min %s, max %s, spread (IQR) %s\n",
              Latency(s.min, result->unit).c_str(),
              Latency(s.max, result->unit).c_str(),
              Latency(s.spread, result->unit).c_str());
  if (open->profile.kind == devices::BoardKind::kQemu) {
    std::printf("  (emulated instructions: deterministic, not cycles)\n");
  }
  if (!flags.per_op) return 0;
  absl::StatusOr<std::vector<double>> per_op =
      open->device->ProfileOps(*blob, input, options);
  if (!per_op.ok()) return Fail(per_op.status());
  double total = 0;
  for (double v : *per_op) total += v;
  std::printf("%4s %-18s %14s %7s\n", "op", "type", "latency", "share");
  for (size_t i = 0; i < per_op->size(); ++i) {
    const engine::OpRecord& op = m.op(static_cast<uint16_t>(i));
    static const char* const kNames[] = {"?", "conv", "depthwise", "add",
                                         "average_pool", "fully_connected"};
    const char* name = op.type <= 5 ? kNames[op.type] : "other";
    std::printf("%4zu %-18s %14.0f %6.1f%%\n", i, name, (*per_op)[i],
                100.0 * (*per_op)[i] / total);
  }
  std::printf("%4s %-18s %14.0f\n", "", "sum of ops", total);
  return 0;
}

}  // namespace mcunas::tools
