// The `mcunas-lut` subcommands: build a board's latency table for a search
// space, show what a database holds, validate a table against whole-model
// measurements, export a table. Each returns the process exit code and
// prints errors to stderr naming what was wrong. Not thread-safe (writes to
// stdout).
#ifndef MCUNAS_TOOLS_MCUNAS_LUT_LUT_COMMANDS_H_
#define MCUNAS_TOOLS_MCUNAS_LUT_LUT_COMMANDS_H_

#include <string>

namespace mcunas::tools {

struct LutFlags {
  std::string db = "mcunas_lut.db";
  std::string space = "fashion_mnist";  // built-in name or a JSON file
  // Restrict the space to one input resolution and width multiplier (in
  // thousandths); 0: all of the space's.
  int resolution = 0;
  int width_milli = 0;
  std::string catalog;       // empty: devices::DefaultCatalogPath()
  std::string firmware_dir;  // empty: devices::DefaultFirmwareDirs()
  double timeout_seconds = 30;
  // Measurement counts; -1: the board unit's defaults.
  int warmup = -1;
  int runs = -1;
  int repeats = -1;
  bool quiet = false;  // no progress line
};

// Measures what the database lacks for BOARD and the space; prints progress
// and a summary.
int BuildCommand(const std::string& board, int fit_models,
                 const LutFlags& flags);

// One line per (board, engine build) table: entries, fit and validation
// models, last measurement; marks the tables of the current builds.
int ShowCommand(const LutFlags& flags);

// Measures `candidates` held-out architectures whole, prints the report,
// writes the scatter plot to `svg_path` and the cases to `csv_path` (each
// if not empty).
int ValidateCommand(const std::string& board, int candidates,
                    const std::string& svg_path, const std::string& csv_path,
                    bool remeasure, const LutFlags& flags);

// Writes BOARD's current table as CSV (signature fields, n, median,
// spread) to `out_path` ("-": stdout), board, build and unit in a comment
// line first.
int ExportCommand(const std::string& board, const std::string& out_path,
                  const LutFlags& flags);

}  // namespace mcunas::tools

#endif  // MCUNAS_TOOLS_MCUNAS_LUT_LUT_COMMANDS_H_
