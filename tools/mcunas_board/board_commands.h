// The `mcunas-board` subcommands: list the board catalogue, run a model on a
// board, time it there. Each returns the process exit code and prints errors
// to stderr naming what was wrong. Not thread-safe (writes to stdout).
#ifndef MCUNAS_TOOLS_MCUNAS_BOARD_BOARD_COMMANDS_H_
#define MCUNAS_TOOLS_MCUNAS_BOARD_BOARD_COMMANDS_H_

#include <string>

#include "mcunas/devices/device.h"

namespace mcunas::tools {

struct BoardFlags {
  std::string catalog;       // empty: devices::DefaultCatalogPath()
  std::string firmware_dir;  // empty: devices::DefaultFirmwareDirs()
  std::string adapter_serial;
  double timeout_seconds = 30;
  bool reference_kernels = false;
  bool per_op = false;  // bench: also time each op
};

// One line per board: name, kind, core, clock, budgets, reach, unit.
int ListCommand(const BoardFlags& flags);

// Runs MODEL on BOARD with the raw int8 bytes of IN; prints the latency
// (with its unit) and writes the raw output bytes to OUT (or prints them).
int RunCommand(const std::string& board, const std::string& model_path,
               const std::string& input_path, const std::string& output_path,
               const BoardFlags& flags);

// Median, spread and extremes over `runs` measured runs after `warmup`, on
// a deterministic random input; with flags.per_op, each op's share too.
int BenchCommand(const std::string& board, const std::string& model_path,
                 int runs, int warmup, const BoardFlags& flags);

}  // namespace mcunas::tools

#endif  // MCUNAS_TOOLS_MCUNAS_BOARD_BOARD_COMMANDS_H_
