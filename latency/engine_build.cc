#include "mcunas/latency/engine_build.h"

#include "mcunas/devices/firmware_id.h"

namespace mcunas::latency {

extern const char kHostEngineBuildId[];  // generated: engine_build_id.cmake

absl::StatusOr<std::string> EngineBuildId(
    const devices::BoardProfile& board,
    const std::vector<std::string>& firmware_dirs) {
  if (board.kind == devices::BoardKind::kHost) return kHostEngineBuildId;
  return devices::FirmwareId(board, firmware_dirs);
}

}  // namespace mcunas::latency
