// A real Cortex-M board behind a debug probe: one OpenOCD server per board
// (its config files and adapter serial, ports on 127.0.0.1), which flashes
// the runner firmware once when the session starts; model blobs are written
// to the firmware's flash model region with OpenOCD's flash commands and run
// in place; runs and read-back go over RSP on OpenOCD's gdb port, with
// hardware breakpoints (the halt function is in flash). Latency is in core
// cycles from DWT->CYCCNT (SysTick when a core has none).
//
// Hangs, faults and a lost server restart the OpenOCD session before the
// error is returned, like EmulatedBoard. NOT RUN ON HARDWARE YET: see
// docs/boards.md. Not thread-safe.
#ifndef MCUNAS_DEVICES_OPENOCD_BOARD_H_
#define MCUNAS_DEVICES_OPENOCD_BOARD_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mcunas/devices/device.h"

namespace mcunas::devices {

class OpenOcdBoard final : public Device {
 public:
  // REQUIRES: board.kind == BoardKind::kOpenOcd.
  OpenOcdBoard(BoardProfile board, std::string firmware_path,
               DeviceOptions options);
  ~OpenOcdBoard() override;

  const BoardProfile& profile() const override;
  absl::Status Prepare() override;
  absl::StatusOr<RunResult> Run(const std::vector<uint8_t>& blob,
                                const std::vector<int8_t>& inputs,
                                const RunOptions& options) override;
  absl::StatusOr<std::vector<double>> ProfileOps(
      const std::vector<uint8_t>& blob, const std::vector<int8_t>& inputs,
      const RunOptions& options) override;
  absl::Status Health() override;
  absl::Status Reset() override;

 private:
  // The OpenOCD side of the shared board logic (devices/src/runner_board.h).
  class Impl;
  const std::unique_ptr<Impl> impl_;
};

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_OPENOCD_BOARD_H_
