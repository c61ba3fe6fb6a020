// mcunas-model: inspect, run and time mcunas engine models on the host.
//
//   mcunas-model info MODEL
//   mcunas-model run MODEL IN.bin OUT.bin [--kernels reference|optimized]
//   mcunas-model bench MODEL [--runs N] [--warmup N]
//   mcunas-model import IN.tflite OUT.mcunas
//   mcunas-model export MODEL OUT.tflite
// MODEL is an engine blob or an int8 .tflite (imported on the fly).
#include <exception>
#include <iostream>

#include "CLI/CLI.hpp"
#include "model_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Inspect, run and time mcunas int8 engine models"};
  app.require_subcommand(1);
  std::string model, input, output, tflite_path;
  mcunas::tools::KernelChoice kernels;
  int runs = 50, warmup = 5;

  CLI::App* info = app.add_subcommand(
      "info", "ops, shapes, params, MACs, peak SRAM and its lower bound, flash");
  info->add_option("MODEL", model, "model blob or .tflite")->required();

  CLI::App* run = app.add_subcommand("run", "run one input, write the output");
  run->add_option("MODEL", model, "model blob or .tflite")->required();
  run->add_option("IN", input, "raw int8 input bytes")->required();
  run->add_option("OUT", output, "where to write raw int8 output bytes")
      ->required();
  run->add_option("--kernels", kernels.name, "reference or optimized")
      ->check(CLI::IsMember({"reference", "optimized"}));

  CLI::App* bench =
      app.add_subcommand("bench", "median host latency of one inference");
  bench->add_option("MODEL", model, "model blob or .tflite")->required();
  bench->add_option("--runs", runs, "timed runs")->check(CLI::Range(1, 100000));
  bench->add_option("--warmup", warmup, "untimed runs first")
      ->check(CLI::Range(0, 100000));
  bench->add_option("--kernels", kernels.name, "reference or optimized")
      ->check(CLI::IsMember({"reference", "optimized"}));

  CLI::App* import = app.add_subcommand(
      "import", "int8 .tflite -> engine model blob (byte-exact with TFLM)");
  import->add_option("IN", tflite_path, ".tflite model")->required();
  import->add_option("OUT", output, "where to write the engine blob")
      ->required();

  CLI::App* export_cmd =
      app.add_subcommand("export", "engine model (or .tflite) -> .tflite");
  export_cmd->add_option("MODEL", model, "model blob or .tflite")->required();
  export_cmd->add_option("OUT", output, "where to write the .tflite")
      ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*info) return mcunas::tools::InfoCommand(model);
    if (*import) return mcunas::tools::ImportCommand(tflite_path, output);
    if (*export_cmd) return mcunas::tools::ExportCommand(model, output);
    if (*run) return mcunas::tools::RunCommand(model, input, output, kernels);
    if (*bench) {
      return mcunas::tools::BenchCommand(model, runs, warmup, kernels);
    }
  } catch (const std::exception& e) {
    std::cerr << "mcunas-model: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
