// An emulated Cortex-M board: qemu-system-arm (mps2-an386 M4F, mps2-an500
// M7, mps2-an505 M33) with -icount, running the runner firmware and driven
// over the GDB remote protocol on a private Unix socket. Latency is in
// *emulated instructions*: deterministic (the same model gives the same
// count every time), but not cycles — QEMU models no pipeline, cache or wait
// states, so M4 and M7 count alike.
//
// QEMU is started once per board session and the firmware loaded once;
// model blobs go into the firmware's model region and run in place. The
// region is in the machine's 16 MiB PSRAM, which QEMU maps from a shared
// file (/dev/shm), so a blob is written with a memcpy rather than ~2 KiB
// GDB packets (all of QEMU's memory is plain RAM; this changes no count).
// Between commands the core is stopped by watchpoints on the mailbox, not
// by a breakpoint: QEMU throws away all translated code at every breakpoint
// stop, and retranslating the kernels cost milliseconds per command. On a
// hang (no result within RunOptions::timeout), a firmware fault or a QEMU
// exit, the QEMU process is killed and a fresh one booted before the error
// is returned. Not thread-safe, except emulator_pid().
#ifndef MCUNAS_DEVICES_EMULATED_BOARD_H_
#define MCUNAS_DEVICES_EMULATED_BOARD_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mcunas/devices/device.h"
#include "mcunas/devices/runner_protocol.h"

namespace mcunas::devices {

class RunnerSession;

class EmulatedBoard final : public Device {
 public:
  // REQUIRES: board.kind == BoardKind::kQemu. `firmware_path` is the runner
  // ELF for board.qemu_machine.
  EmulatedBoard(BoardProfile board, std::string firmware_path,
                DeviceOptions options);
  ~EmulatedBoard() override;

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

  // Emulated instructions for `ticks` SysTick ticks:
  // ticks * 1e9 / (clock_hz * 2^icount_shift), rounded.
  double TicksToInstructions(uint64_t ticks) const;

  // Measured SysTick ticks per emulated instruction (a loop of known
  // length), to check the clock and -icount settings against the profile.
  absl::StatusOr<double> CalibrateTicksPerInstruction();

  // Sends a firmware test hook (runner::Command::kHang or kFault) with the
  // same failure handling as Run: the error it returns, and a restarted
  // board after it.
  absl::Status RunTestHook(runner::Command hook, absl::Duration timeout);

  // The running QEMU's process id, or -1. Safe from any thread (tests kill
  // QEMU mid-run through it).
  pid_t emulator_pid() const;
  // How many times the board was (re)started.
  int32_t starts() const;

  // The mailbox session of the running board (null before Prepare), for
  // tests and tools that speak the runner protocol directly. Owned by the
  // board; invalidated by a restart.
  RunnerSession* session_for_testing();

 private:
  // The QEMU side of the shared board logic (devices/src/runner_board.h).
  class Impl;
  const std::unique_ptr<Impl> impl_;
};

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_EMULATED_BOARD_H_
