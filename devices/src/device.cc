#include "mcunas/devices/device.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "device_internal.h"
#include "host_device.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/devices/emulated_board.h"
#include "mcunas/devices/openocd_board.h"
#include "runner_session.h"
#include "spdlog/sinks/stdout_color_sinks.h"

#ifndef MCUNAS_FIRMWARE_DIRS
#define MCUNAS_FIRMWARE_DIRS ""
#endif

namespace mcunas::devices {
namespace {

// Value at fraction q of sorted `v` (linear interpolation).
double Quantile(const std::vector<double>& v, double q) {
  const double at = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(at);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

}  // namespace

std::shared_ptr<spdlog::logger> DevicesLogger() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    std::shared_ptr<spdlog::logger> existing = spdlog::get("devices");
    return existing != nullptr ? existing
                               : spdlog::stderr_color_mt("devices");
  }();
  return logger;
}

absl::Status CheckInputBytes(const engine::Model& model,
                             const std::vector<int8_t>& inputs) {
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < model.input_count(); ++i) {
    bytes += model.tensor(model.input(i)).bytes;
  }
  if (inputs.size() != bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the input is ", inputs.size(), " B; the model takes ",
                     bytes, " B"));
  }
  return absl::OkStatus();
}

bool NeedsRestart(const absl::Status& status) {
  return absl::IsDeadlineExceeded(status) || absl::IsUnavailable(status) ||
         absl::IsInternal(status);
}

LatencyStats Summarize(std::vector<double> samples) {
  LatencyStats stats;
  if (samples.empty()) return stats;
  std::sort(samples.begin(), samples.end());
  stats.n = static_cast<int32_t>(samples.size());
  stats.min = samples.front();
  stats.max = samples.back();
  stats.median = Quantile(samples, 0.5);
  stats.spread = Quantile(samples, 0.75) - Quantile(samples, 0.25);
  return stats;
}

absl::Status CheckBudgets(const BoardProfile& board,
                          const engine::Model& model) {
  if (model.arena_bytes() > board.sram_budget) {
    return absl::ResourceExhaustedError(OverBudgetMessage(
        "SRAM", model.arena_bytes(), board.name, board.sram_budget));
  }
  const uint32_t blob = model.header().total_bytes;
  if (blob > board.flash_budget) {
    return absl::ResourceExhaustedError(
        OverBudgetMessage("flash", blob, board.name, board.flash_budget));
  }
  return absl::OkStatus();
}

std::vector<std::string> DefaultFirmwareDirs() {
  const char* env = std::getenv("MCUNAS_FIRMWARE_DIR");
  if (env != nullptr && env[0] != '\0') {
    return absl::StrSplit(env, ':', absl::SkipEmpty());
  }
  return absl::StrSplit(MCUNAS_FIRMWARE_DIRS, ';', absl::SkipEmpty());
}

absl::StatusOr<std::string> FindFirmware(const BoardProfile& board,
                                         const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    const std::string path = absl::StrCat(dir, "/", board.firmware);
    std::error_code error;
    if (std::filesystem::is_regular_file(path, error)) return path;
  }
  return absl::NotFoundError(absl::StrCat(
      "runner firmware ", board.firmware, " for board ", board.name,
      " is not in [", absl::StrJoin(dirs, ", "),
      "]; build it with scripts/cross_build (or set MCUNAS_FIRMWARE_DIR)"));
}

absl::StatusOr<std::unique_ptr<Device>> OpenDevice(
    const BoardProfile& board, const DeviceOptions& options) {
  switch (board.kind) {
    case BoardKind::kHost:
      return std::unique_ptr<Device>(new HostDevice(board));
    case BoardKind::kQemu:
    case BoardKind::kOpenOcd: {
      const std::vector<std::string> dirs = options.firmware_dirs.empty()
                                                ? DefaultFirmwareDirs()
                                                : options.firmware_dirs;
      MCUNAS_ASSIGN_OR_RETURN(std::string firmware, FindFirmware(board, dirs));
      if (board.kind == BoardKind::kQemu) {
        return std::unique_ptr<Device>(
            new EmulatedBoard(board, firmware, options));
      }
      return std::unique_ptr<Device>(new OpenOcdBoard(board, firmware, options));
    }
  }
  return absl::InvalidArgumentError("unknown board kind");
}

}  // namespace mcunas::devices
