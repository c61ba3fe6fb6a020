// The host "board": the engine in this process, timed with the wall clock
// (steady_clock, ns). Results are as noisy as the machine: run warm-up runs
// first and read the median. Budgets are checked like on any board. Not
// thread-safe. Private to devices/ (made by OpenDevice).
#ifndef MCUNAS_DEVICES_SRC_HOST_DEVICE_H_
#define MCUNAS_DEVICES_SRC_HOST_DEVICE_H_

#include <vector>

#include "mcunas/devices/device.h"

namespace mcunas::devices {

class HostDevice final : public Device {
 public:
  explicit HostDevice(BoardProfile board) : board_(std::move(board)) {}

  const BoardProfile& profile() const override { return board_; }
  absl::Status Prepare() override { return absl::OkStatus(); }
  absl::StatusOr<RunResult> Run(const std::vector<uint8_t>& blob,
                                const std::vector<int8_t>& inputs,
                                const RunOptions& options) override;
  absl::StatusOr<std::vector<double>> ProfileOps(
      const std::vector<uint8_t>& blob, const std::vector<int8_t>& inputs,
      const RunOptions& options) override;
  absl::Status Health() override { return absl::OkStatus(); }
  absl::Status Reset() override { return absl::OkStatus(); }

 private:
  BoardProfile board_;
};

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_SRC_HOST_DEVICE_H_
