// The part of a board Device that EmulatedBoard and OpenOcdBoard share: both
// run the runner firmware under a debug server (QEMU or OpenOCD) and drive it
// through a RunnerSession. RunnerBoard reads the firmware image and makes the
// work directory once, starts the board on demand (adding the server's log
// to a failed start), checks each model on the host before it goes to the
// board, and restarts the board after a hang, a fault or a lost server
// before returning that error (see device.h). A subclass starts and stops
// its server and the session, and turns timer ticks into its latency unit.
//
// Not thread-safe.
#ifndef MCUNAS_DEVICES_SRC_RUNNER_BOARD_H_
#define MCUNAS_DEVICES_SRC_RUNNER_BOARD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "elf_image.h"
#include "mcunas/devices/device.h"
#include "mcunas/engine/host/model_file.h"
#include "runner_session.h"
#include "subprocess.h"

namespace mcunas::devices {

class RunnerBoard {
 public:
  RunnerBoard(const RunnerBoard&) = delete;
  RunnerBoard& operator=(const RunnerBoard&) = delete;
  // Removes the work directory. Subclass destructors call Stop() first.
  virtual ~RunnerBoard();

  // The Device operations of both boards (see device.h).
  const BoardProfile& profile() const { return board_; }
  absl::Status Prepare();
  absl::StatusOr<RunResult> Run(const std::vector<uint8_t>& blob,
                                const std::vector<int8_t>& inputs,
                                const RunOptions& options);
  absl::StatusOr<std::vector<double>> ProfileOps(
      const std::vector<uint8_t>& blob, const std::vector<int8_t>& inputs,
      const RunOptions& options);
  absl::Status Health();
  absl::Status Reset();

  // The session of the running board (null before Prepare). Invalidated by
  // a restart.
  RunnerSession* session() { return session_.get(); }

 protected:
  // `server_name` names the server in messages ("QEMU said: ..."); `unit`
  // is what Latency returns.
  RunnerBoard(BoardProfile board, std::string firmware_path,
              DeviceOptions options, std::string server_name,
              LatencyUnit unit);

  // Starts the server, connects to it and starts the runner session.
  // firmware() and work_dir() are ready. On failure Prepare calls Stop().
  virtual absl::StatusOr<std::unique_ptr<RunnerSession>> Start() = 0;
  // Stops what Start started; the session is already gone.
  virtual void StopServer() = 0;
  // The server process, or null while stopped.
  virtual Subprocess* server() = 0;
  // OK when the session and the server are up; Unavailable, saying which is
  // not, otherwise.
  virtual absl::Status ServerHealth() = 0;
  // `ticks` of the firmware's timer in the board's latency unit.
  virtual double Latency(uint64_t ticks) const = 0;
  // A note on how `error` came about (such as how the server exited),
  // appended to its message when the board is restarted after it.
  virtual std::string DescribeFailure(const absl::Status& error);

  // Drops the session, then stops the server.
  void Stop();
  // `status`, after restarting the board when it needs that (NeedsRestart),
  // with a note on the restart.
  absl::Status RestartIfNeeded(const absl::Status& status);

  const ElfImage& firmware() const { return *firmware_; }
  const std::string& work_dir() const { return work_dir_; }

  const BoardProfile board_;
  const std::string firmware_path_;
  const DeviceOptions options_;

 private:
  absl::Status ReadFirmwareAndStart();

  const std::string server_name_;
  const LatencyUnit unit_;
  std::unique_ptr<ElfImage> firmware_;
  std::string work_dir_;
  std::unique_ptr<RunnerSession> session_;
  // The last blob that passed the host's checks (the engine's loader with
  // its CRC, ~2 ms for 200 KB, and the plan validation), and its model: the
  // same blob run again is not checked again.
  std::vector<uint8_t> checked_blob_;
  std::unique_ptr<engine::LoadedModel> checked_model_;
};

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_SRC_RUNNER_BOARD_H_
