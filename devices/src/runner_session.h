// Drives the runner firmware's mailbox (mcunas/devices/runner_protocol.h)
// over a GDB remote-protocol connection: the part shared by emulated and
// real boards. The caller loads the firmware and puts the core at its entry
// (QEMU: memory writes and registers; OpenOCD: program + reset halt); Start
// sets the halt breakpoint and runs the firmware to its first halt. Writing
// model blobs is board-specific (flash on a real board), so it is a callback.
//
// How the core is stopped between commands is a StopMode: a breakpoint on
// the halt function on real boards, watchpoints on the mailbox on QEMU
// (Start then moves from the boot breakpoint to the watchpoints).
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

#include <cstddef>
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

enum class StopMode {
  // A breakpoint on the halt function (Options::breakpoint); a command
  // resumes the core by doing what the function's only instruction (`bx
  // lr`) would do, pc = lr, so the breakpoint stays in place.
  kBreakpoint,
  // Watchpoints on the mailbox, for QEMU: QEMU 7.2 throws away all its
  // translated code whenever a breakpoint stops the core (not when a
  // watchpoint does), so every command would spend milliseconds
  // retranslating the kernels. QEMU stops *before* a watched access and
  // repeats it when resumed, so a watchpoint must be removed before the
  // core can pass it, and a command takes two stops:
  //   parked: the core is about to read `command`; read watchpoints on
  //     `command` and `halt_count`;
  //   go: write the request, swap them for a write watchpoint on
  //     `halt_count`, resume: the firmware runs the command, writes its
  //     reply and stops before counting the halt (in its main loop, or in
  //     the fault handler's halt loop);
  //   park: read the reply, swap back, resume: the main loop counts the
  //     halt and stops before reading the next command; the fault loop
  //     stops before reading `halt_count` again.
  // Each step's requests go in one write (RspClient pipelining).
  kWatchpoints,
};

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
    StopMode stop_mode = StopMode::kBreakpoint;
    // The halt breakpoint (kBreakpoint), and the boot stop in either mode.
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
  // options.runs reps (each timed), ReadOutputs. The CRC is checked on the
  // board whenever the blob was (re)written, if Options asks for it.
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

  // Writes the request fields, resumes the core past the halt point and
  // waits for it to halt again; reads the reply into reply_ and maps
  // non-OK results to a Status. `before` (writes) is sent before the core
  // resumes, `after` (reads) once it has halted, with the session's own
  // requests; returns the bytes of `after`'s reads (also when the command
  // failed on the board: they are read before the result is known).
  absl::StatusOr<std::vector<std::vector<uint8_t>>> Command(
      runner::Command command, uint32_t flags, uint32_t reps,
      absl::Duration timeout, RspBatch before = RspBatch(),
      RspBatch after = RspBatch());
  // The halt-point part of Command, per StopMode. Put the reply's bytes in
  // `*box`.
  absl::StatusOr<std::vector<std::vector<uint8_t>>> ResumeWithBreakpoint(
      runner::Command command, absl::Duration timeout, RspBatch before,
      RspBatch after, std::vector<uint8_t>* box);
  absl::StatusOr<std::vector<std::vector<uint8_t>>> ResumeWithWatchpoints(
      runner::Command command, absl::Duration timeout, RspBatch before,
      RspBatch after, std::vector<uint8_t>* box);
  // From the boot stop (on the halt breakpoint) to parked (kWatchpoints).
  absl::Status Park();
  // Message for a command that did not come back.
  absl::Status NoStop(runner::Command command, const absl::Status& status);
  absl::Status ReadMailbox(runner::Mailbox* box);
  absl::Status ResultToStatus(runner::Command command);
  // Per-rep ticks from the profile array's bytes, checked against the
  // reply's total.
  absl::StatusOr<std::vector<uint64_t>> DecodeRepTicks(
      const std::vector<uint8_t>& bytes, uint32_t reps);

  uint32_t command_address() const {
    return mailbox_address_ + offsetof(runner::Mailbox, command);
  }
  uint32_t halt_count_address() const {
    return mailbox_address_ + offsetof(runner::Mailbox, halt_count);
  }

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
