// Drives the runner firmware's mailbox (mcunas/devices/runner_protocol.h)
// over a GDB remote-protocol connection: the part shared by emulated and
// real boards. The caller loads the firmware and puts the core at its entry
// (QEMU: memory writes and registers; OpenOCD: program + reset halt); Start
// sets the halt breakpoint and runs the firmware to its first halt. Writing
// model blobs is board-specific (flash on a real board), so it is a callback.
//
// Errors: a command that does not finish within its timeout is
// DeadlineExceeded (the firmware hangs); a dropped connection is Unavailable
// (the board or its server died); a firmware fault is Internal with the
// fault registers. After any of these the session is unusable: restart the
// board. Budget refusals are ResourceExhausted with the message
// "model needs N B of SRAM, board B has M B (over by K B)".
//
// Not thread-safe. Borrows the RspClient, which must outlive the session.
#ifndef MCUNAS_DEVICES_SRC_RUNNER_SESSION_H_
#define MCUNAS_DEVICES_SRC_RUNNER_SESSION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "elf_image.h"
#include "mcunas/devices/device.h"
#include "mcunas/devices/rsp_client.h"
#include "mcunas/devices/runner_protocol.h"

namespace mcunas::devices {

// Writes `blob` at `address` in the firmware's model region.
using BlobWriter =
    std::function<absl::Status(uint32_t address, const std::vector<uint8_t>&)>;

struct RunTicks {
  uint64_t total = 0;  // summed over the reps
  uint64_t min = 0;    // fastest rep
  uint64_t max = 0;    // slowest rep
};

// Outputs and per-run ticks of RunnerSession::RunModel.
struct TickRun {
  std::vector<int8_t> outputs;
  std::vector<uint64_t> ticks;  // one per measured run
};

class RunnerSession {
 public:
  struct Options {
    std::string board_name;  // for messages
    BreakpointType breakpoint = BreakpointType::kSoftware;
    absl::Duration boot_timeout = absl::Seconds(10);
    BlobWriter write_blob;
    // Whether the firmware checks the blob's CRC when loading a blob that
    // was just written. Not needed when the writer cannot corrupt it (a
    // shared-memory copy) or verifies itself (OpenOCD's verify_image).
    bool verify_written_blobs = true;
  };

  // REQUIRES: the firmware is loaded and the core will run it from its
  // entry when resumed.
  static absl::StatusOr<std::unique_ptr<RunnerSession>> Start(
      RspClient* gdb, const ElfImage& firmware, Options options);

  // The firmware's layout fields (valid after Start).
  const runner::Mailbox& layout() const { return layout_; }
  runner::Timer timer() const {
    return static_cast<runner::Timer>(layout_.timer);
  }

  // Writes `blob` into the model region unless it is already there (as
  // written by this session). Sets *written to whether it wrote.
  absl::Status PutModel(const std::vector<uint8_t>& blob, bool* written);

  // kLoad with the board's budgets. On success the mailbox's model fields
  // (input/output bytes, op count) are in layout-independent `loaded()`.
  absl::Status Load(uint32_t sram_budget, uint32_t flash_budget,
                    uint32_t flags, absl::Duration timeout);
  const runner::Mailbox& loaded() const { return reply_; }

  // REQUIRES: inputs.size() == loaded().input_bytes.
  absl::Status WriteInputs(const std::vector<int8_t>& inputs);
  absl::StatusOr<RunTicks> Run(uint32_t reps, absl::Duration timeout);
  // Ticks of each of the last Run's reps (at most profile_capacity).
  absl::StatusOr<std::vector<uint64_t>> RepTicks(uint32_t reps);
  absl::StatusOr<std::vector<int8_t>> ReadOutputs();
  // Ticks per op of one run.
  absl::StatusOr<std::vector<uint64_t>> Profile(absl::Duration timeout);
  // kCalibrate: ticks for 2 * iterations instructions.
  absl::StatusOr<uint64_t> Calibrate(uint32_t iterations,
                                     absl::Duration timeout);

  // The whole job: PutModel, Load (skipped when this blob is already loaded
  // with the same kernels), WriteInputs, one kRun of options.warmup +
  // options.runs reps (each timed), ReadOutputs. The CRC is checked on the board whenever
  // the blob was (re)written.
  absl::StatusOr<TickRun> RunModel(const std::vector<uint8_t>& blob,
                                   const std::vector<int8_t>& inputs,
                                   const RunOptions& options,
                                   uint32_t sram_budget, uint32_t flash_budget);

  // Sends `command` with no arguments and returns the firmware's result
  // (for the test hooks kHang and kFault, and kNone as a ping).
  absl::Status Execute(runner::Command command, absl::Duration timeout);

 private:
  RunnerSession(RspClient* gdb, Options options)
      : gdb_(gdb), options_(std::move(options)) {}

  // Writes the request fields, resumes the core past the halt breakpoint and
  // waits for it to halt again; reads the reply into reply_ and maps
  // non-OK results to a Status.
  absl::Status Command(runner::Command command, uint32_t flags, uint32_t reps,
                       absl::Duration timeout);
  absl::Status ReadMailbox(runner::Mailbox* box);
  absl::Status ResultToStatus(runner::Command command);

  RspClient* gdb_;
  Options options_;
  uint32_t mailbox_address_ = 0;
  uint32_t halt_address_ = 0;
  int pc_register_ = -1;
  int lr_register_ = -1;
  runner::Mailbox layout_{};
  runner::Mailbox reply_{};
  uint32_t sram_budget_ = 0;
  uint32_t flash_budget_ = 0;
  std::vector<uint8_t> resident_blob_;  // what PutModel last wrote
  bool loaded_ = false;                 // resident_blob_ passed kLoad
  uint32_t loaded_flags_ = 0;
};

// "model needs N B of SRAM, board B has M B (over by K B)" (or flash).
std::string OverBudgetMessage(const std::string& what, uint64_t needed,
                              const std::string& board, uint64_t limit);

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_SRC_RUNNER_SESSION_H_
