// The `mcunas-model` subcommands: inspect, run and time an engine model on
// the host, and convert between engine blobs and .tflite. Every command that
// reads a model takes either format (a .tflite is imported on the fly). Each
// returns the process exit code and prints errors to stderr naming the file
// and what was wrong. Not thread-safe (writes to stdout).
#ifndef MCUNAS_TOOLS_MCUNAS_MODEL_MODEL_COMMANDS_H_
#define MCUNAS_TOOLS_MCUNAS_MODEL_MODEL_COMMANDS_H_

#include <string>

namespace mcunas::tools {

// Which kernel set to run: "optimized" (default) or "reference".
struct KernelChoice {
  std::string name = "optimized";
};

// Per-op table and totals: params, MACs, peak SRAM and its lower bound,
// flash bytes.
int InfoCommand(const std::string& model_path);

// Raw int8 input bytes in, raw int8 output bytes out.
int RunCommand(const std::string& model_path, const std::string& input_path,
               const std::string& output_path, const KernelChoice& kernels);

// Median host latency over `runs` timed runs after `warmup` untimed ones.
int BenchCommand(const std::string& model_path, int runs, int warmup,
                 const KernelChoice& kernels);

// Imports an int8 .tflite and writes the engine blob; prints what was folded
// or dropped.
int ImportCommand(const std::string& tflite_path,
                  const std::string& output_path);

// Writes a model (blob or .tflite) as a .tflite.
int ExportCommand(const std::string& model_path,
                  const std::string& output_path);

}  // namespace mcunas::tools

#endif  // MCUNAS_TOOLS_MCUNAS_MODEL_MODEL_COMMANDS_H_
