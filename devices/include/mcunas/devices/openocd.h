// How mcunas talks to OpenOCD for a real board, as plain functions so the
// command lines and command sequences can be tested without a board: the
// launch of a long-running per-board server (config files, adapter serial,
// loopback-only ports, telnet off), the session start (flash the runner
// firmware once, reset halt), and the monitor commands that write a model
// blob to flash. OpenOcdBoard (openocd_board.h) runs them. Stateless;
// thread-safe.
//
// What has not been run on hardware is listed in docs/boards.md.
#ifndef MCUNAS_DEVICES_OPENOCD_H_
#define MCUNAS_DEVICES_OPENOCD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "mcunas/devices/board_catalog.h"

namespace mcunas::devices {

struct OpenOcdPorts {
  int32_t gdb = 3333;
  int32_t tcl = 6666;
};

// The configuration-stage command line, without `init`:
//   openocd -f CFG... [-c "adapter serial SN"]
//           -c "bindto 127.0.0.1; gdb_port N; tcl_port M; telnet_port disabled"
// `adapter_serial` empty: whichever probe OpenOCD finds first.
std::vector<std::string> OpenOcdConfigArgs(const BoardProfile& board,
                                           const std::string& adapter_serial,
                                           const OpenOcdPorts& ports);

// The commands OpenOCD runs after the configuration stage to start a board
// session: init, flash and verify the runner firmware, and leave the core
// halted at reset (the host then resumes it over RSP).
std::vector<std::string> SessionStartCommands(const std::string& firmware_elf);

// The full server command line: OpenOcdConfigArgs plus `-c` for each of
// SessionStartCommands. The server stays up, serving RSP on ports.gdb.
std::vector<std::string> OpenOcdServerArgs(const BoardProfile& board,
                                           const std::string& adapter_serial,
                                           const OpenOcdPorts& ports,
                                           const std::string& firmware_elf);

// Monitor commands (sent with qRcmd while the core is halted) that erase the
// sectors under [address, address + size of the file), write the raw blob
// file there and read it back to verify.
std::vector<std::string> WriteBlobCommands(const std::string& blob_file,
                                           uint32_t address);

// The monitor command that restarts the board: the core halts at its reset
// vector with the firmware still in flash.
std::string ResetHaltCommand();

// Runs `openocd OpenOcdConfigArgs(...) -c shutdown`: OpenOCD reads the
// config files and every configuration command, then exits before touching
// the probe. OK when it accepts them all; InvalidArgument with OpenOCD's
// output otherwise; NotFound when openocd is not installed.
absl::Status CheckOpenOcdConfig(const BoardProfile& board,
                                const std::string& adapter_serial,
                                const OpenOcdPorts& ports,
                                absl::Duration timeout = absl::Seconds(20));

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_OPENOCD_H_
