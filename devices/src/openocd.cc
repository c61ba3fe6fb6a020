#include "mcunas/devices/openocd.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mcunas/common/status_macros.h"
#include "subprocess.h"

namespace mcunas::devices {
namespace {

// A Tcl word: braces keep spaces and most specials literal.
std::string TclWord(const std::string& text) {
  return absl::StrCat("{", text, "}");
}

}  // namespace

std::vector<std::string> OpenOcdConfigArgs(const BoardProfile& board,
                                           const std::string& adapter_serial,
                                           const OpenOcdPorts& ports) {
  std::vector<std::string> argv = {"openocd"};
  for (const std::string& config : board.openocd_configs) {
    argv.push_back("-f");
    argv.push_back(config);
  }
  const std::string& serial =
      adapter_serial.empty() ? board.adapter_serial : adapter_serial;
  if (!serial.empty()) {
    argv.push_back("-c");
    argv.push_back(absl::StrCat("adapter serial ", TclWord(serial)));
  }
  argv.push_back("-c");
  argv.push_back(absl::StrFormat(
      "bindto 127.0.0.1; gdb_port %d; tcl_port %d; telnet_port disabled",
      ports.gdb, ports.tcl));
  return argv;
}

std::vector<std::string> SessionStartCommands(const std::string& firmware_elf) {
  return {"init", absl::StrCat("program ", TclWord(firmware_elf), " verify"),
          ResetHaltCommand()};
}

std::vector<std::string> OpenOcdServerArgs(const BoardProfile& board,
                                           const std::string& adapter_serial,
                                           const OpenOcdPorts& ports,
                                           const std::string& firmware_elf) {
  std::vector<std::string> argv =
      OpenOcdConfigArgs(board, adapter_serial, ports);
  for (const std::string& command : SessionStartCommands(firmware_elf)) {
    argv.push_back("-c");
    argv.push_back(command);
  }
  return argv;
}

std::vector<std::string> WriteBlobCommands(const std::string& blob_file,
                                           uint32_t address) {
  return {
      absl::StrFormat("flash write_image erase %s 0x%08x bin",
                      TclWord(blob_file), address),
      absl::StrFormat("verify_image %s 0x%08x bin", TclWord(blob_file),
                      address),
  };
}

std::string ResetHaltCommand() { return "reset halt"; }

absl::Status CheckOpenOcdConfig(const BoardProfile& board,
                                const std::string& adapter_serial,
                                const OpenOcdPorts& ports,
                                absl::Duration timeout) {
  std::vector<std::string> argv =
      OpenOcdConfigArgs(board, adapter_serial, ports);
  argv.push_back("-c");
  argv.push_back("shutdown");
  absl::StatusOr<CommandResult> result = RunCommand(argv, timeout);
  if (!result.ok()) {
    return absl::NotFoundError(
        absl::StrCat("cannot run openocd: ", result.status().message()));
  }
  if (result->timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("openocd did not exit within ",
                     absl::FormatDuration(timeout), ": ", result->output));
  }
  if (result->exit_status != 0 ||
      !absl::StrContains(result->output, "shutdown command invoked")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "openocd rejected the configuration for ", board.name, " (exit ",
        result->exit_status, "): ", result->output));
  }
  return absl::OkStatus();
}

}  // namespace mcunas::devices
