// mcunas-lut: per-op latency lookup tables, measured on a board and kept in
// an SQLite file.
//
//   mcunas-lut build BOARD [--space fashion_mnist] [--resolution R --width W]
//                          [--fit-models 20]
//   mcunas-lut show
//   mcunas-lut validate BOARD [--candidates 200] [--svg scatter.svg]
//   mcunas-lut export BOARD [--out table.csv]
#include <exception>
#include <iostream>

#include "CLI/CLI.hpp"
#include "lut_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Build, inspect and validate per-op latency tables"};
  app.require_subcommand(1);
  // The shared options (--db, --space, ...) may follow the subcommand.
  app.fallthrough();
  mcunas::tools::LutFlags flags;
  std::string board, svg, csv, out = "-";
  int fit_models = 20, candidates = 200;
  bool remeasure = false;
  app.add_option("--db", flags.db, "the SQLite file (default mcunas_lut.db)");
  app.add_option("--space", flags.space,
                 "built-in space name or space JSON file "
                 "(default fashion_mnist)");
  double width = 0;
  app.add_option("--resolution", flags.resolution,
                 "only this input resolution R of the space (with --width)")
      ->check(CLI::PositiveNumber);
  app.add_option("--width", width,
                 "only this width multiplier W of the space, e.g. 0.5")
      ->check(CLI::PositiveNumber);
  app.add_option("--catalog", flags.catalog,
                 "board catalogue (default devices/boards/boards.txt)");
  app.add_option("--firmware-dir", flags.firmware_dir,
                 "where the runner firmware ELFs are");
  app.add_option("--timeout", flags.timeout_seconds,
                 "seconds one run may take before the board counts as hung")
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", flags.warmup, "unmeasured runs per measurement")
      ->check(CLI::Range(0, 100));
  app.add_option("--runs", flags.runs, "measured runs per measurement")
      ->check(CLI::Range(1, 400));
  app.add_option("--repeats", flags.repeats,
                 "measurements per op or model (median taken)")
      ->check(CLI::Range(1, 100));
  app.add_flag("--quiet", flags.quiet, "no progress line");

  CLI::App* build = app.add_subcommand(
      "build", "measure the space's op signatures the database lacks");
  build->add_option("BOARD", board, "board name (mcunas-board list)")
      ->required();
  build
      ->add_option("--fit-models", fit_models,
                   "whole candidates measured for the overhead fit")
      ->check(CLI::Range(0, 10000));

  CLI::App* show = app.add_subcommand("show", "the tables in the database");

  CLI::App* validate = app.add_subcommand(
      "validate", "compare predictions with whole held-out candidates");
  validate->add_option("BOARD", board, "board name")->required();
  validate->add_option("--candidates", candidates, "held-out candidates")
      ->check(CLI::Range(1, 100000));
  validate->add_option("--svg", svg, "write a predicted-vs-measured plot");
  validate->add_option("--csv", csv,
                       "write every case (predicted, measured, spread, "
                       "speed factor) as CSV");
  validate->add_flag("--remeasure", remeasure,
                     "measure again even when stored");

  CLI::App* exp = app.add_subcommand("export", "write a table as CSV");
  exp->add_option("BOARD", board, "board name")->required();
  exp->add_option("--out", out, "output file (default -: stdout)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  flags.width_milli = static_cast<int>(width * 1000 + 0.5);
  // spdlog and CLI11 may throw; nothing below is expected to.
  try {
    if (*build) return mcunas::tools::BuildCommand(board, fit_models, flags);
    if (*show) return mcunas::tools::ShowCommand(flags);
    if (*validate) {
      return mcunas::tools::ValidateCommand(board, candidates, svg, csv,
                                            remeasure, flags);
    }
    if (*exp) return mcunas::tools::ExportCommand(board, out, flags);
  } catch (const std::exception& e) {
    std::cerr << "mcunas-lut: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
