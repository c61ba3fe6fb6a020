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

class RspClient;
class RunnerSession;
class Subprocess;
class ElfImage;

class OpenOcdBoard final : public Device {
 public:
  // REQUIRES: board.kind == BoardKind::kOpenOcd.
  OpenOcdBoard(BoardProfile board, std::string firmware_path,
               DeviceOptions options);
  ~OpenOcdBoard() override;

  const BoardProfile& profile() const override { return board_; }
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
  absl::Status Start();
  void Stop();
  absl::Status RestartAfter(const absl::Status& error);
  absl::Status WriteBlob(uint32_t address, const std::vector<uint8_t>& blob);

  BoardProfile board_;
  std::string firmware_path_;
  DeviceOptions options_;
  std::unique_ptr<ElfImage> firmware_;
  std::string work_dir_;
  std::unique_ptr<Subprocess> openocd_;
  std::unique_ptr<RspClient> gdb_;
  std::unique_ptr<RunnerSession> session_;
};

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_OPENOCD_BOARD_H_
