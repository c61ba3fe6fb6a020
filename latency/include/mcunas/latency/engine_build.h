// Which engine build a latency measurement belongs to. Tables are keyed by
// board and engine build id, and a build id changes whenever the code that
// runs a model changes, so a table measured with other kernels is never used
// silently:
//   - host: a SHA-256 over the engine runtime sources, compiler and flags,
//     made at build time ("host-1a2b3c4d5e6f7a8b");
//   - emulated and OpenOCD boards: the runner firmware the board would load,
//     by its loadable bytes (devices::FirmwareId).
//
// Stateless functions; thread-safe.
#ifndef MCUNAS_LATENCY_ENGINE_BUILD_H_
#define MCUNAS_LATENCY_ENGINE_BUILD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/devices/board_catalog.h"

namespace mcunas::latency {

// The build id for `board`. `firmware_dirs` as for devices::FindFirmware
// (empty: devices::DefaultFirmwareDirs()). NotFound when a board's firmware
// is missing; Unavailable when it cannot be read.
absl::StatusOr<std::string> EngineBuildId(
    const devices::BoardProfile& board,
    const std::vector<std::string>& firmware_dirs);

}  // namespace mcunas::latency

#endif  // MCUNAS_LATENCY_ENGINE_BUILD_H_
