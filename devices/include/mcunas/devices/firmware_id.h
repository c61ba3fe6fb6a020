// The identity of a board's runner firmware by what it loads: a hash of the
// ELF's loadable segments (addresses and bytes), not of the whole file, so
// the same code built in another directory (other debug paths) has the same
// id, and any change to the code or data a board runs gives another. The
// latency tables key their measurements by it.
//
// Stateless; thread-safe.
#ifndef MCUNAS_DEVICES_FIRMWARE_ID_H_
#define MCUNAS_DEVICES_FIRMWARE_ID_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/devices/board_catalog.h"

namespace mcunas::devices {

// "<firmware file name>-<16 hex digits>" for `board`'s firmware, found in
// `firmware_dirs` (empty: DefaultFirmwareDirs()). NotFound when it is
// missing; the ELF reader's errors when it is not a firmware image.
// REQUIRES: board.kind != BoardKind::kHost.
absl::StatusOr<std::string> FirmwareId(
    const BoardProfile& board, const std::vector<std::string>& firmware_dirs);

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_FIRMWARE_ID_H_
