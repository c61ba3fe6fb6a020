// mcunas-board: the board catalogue, and models run and timed on a board
// (the host engine, an emulated Cortex-M board, or a real one via OpenOCD).
//
//   mcunas-board list
//   mcunas-board run BOARD MODEL IN.bin [OUT.bin]
//   mcunas-board bench BOARD MODEL [--runs N] [--warmup N] [--per-op]
#include <exception>
#include <iostream>

#include "CLI/CLI.hpp"
#include "board_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"List boards; run and time mcunas models on them"};
  app.require_subcommand(1);
  mcunas::tools::BoardFlags flags;
  std::string board, model, input, output;
  int runs = 5, warmup = 1;
  app.add_option("--catalog", flags.catalog,
                 "board catalogue (default devices/boards/boards.txt)");
  app.add_option("--firmware-dir", flags.firmware_dir,
                 "where the runner firmware ELFs are");
  app.add_option("--adapter-serial", flags.adapter_serial,
                 "debug probe serial number (OpenOCD boards)");
  app.add_option("--timeout", flags.timeout_seconds,
                 "seconds one run may take before the board counts as hung")
      ->check(CLI::PositiveNumber);
  app.add_flag("--reference-kernels", flags.reference_kernels,
               "run the engine's reference kernels");

  CLI::App* list = app.add_subcommand("list", "the board catalogue");

  CLI::App* run = app.add_subcommand(
      "run", "run one input; print the latency, write or print the outputs");
  run->add_option("BOARD", board, "board name (see list)")->required();
  run->add_option("MODEL", model, "model blob")->required();
  run->add_option("IN", input, "raw int8 input bytes")->required();
  run->add_option("OUT", output, "where to write the raw int8 outputs");

  CLI::App* bench = app.add_subcommand(
      "bench", "median latency on the board over repeated runs");
  bench->add_option("BOARD", board, "board name (see list)")->required();
  bench->add_option("MODEL", model, "model blob")->required();
  bench->add_option("--runs", runs, "measured runs")->check(CLI::Range(1, 400));
  bench->add_option("--warmup", warmup, "unmeasured runs first")
      ->check(CLI::Range(0, 100));
  bench->add_flag("--per-op", flags.per_op, "also time every op");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // spdlog and CLI11 may throw; nothing below is expected to.
  try {
    if (*list) return mcunas::tools::ListCommand(flags);
    if (*run) {
      return mcunas::tools::RunCommand(board, model, input, output, flags);
    }
    if (*bench) {
      return mcunas::tools::BenchCommand(board, model, runs, warmup, flags);
    }
  } catch (const std::exception& e) {
    std::cerr << "mcunas-board: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
