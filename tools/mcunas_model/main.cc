// mcunas-model: inspect, run and time mcunas engine models on the host.
//
//   mcunas-model info MODEL
//   mcunas-model run MODEL IN.bin OUT.bin [--kernels reference|optimized]
//   mcunas-model bench MODEL [--runs N] [--warmup N]
#include <exception>
#include <iostream>

#include "CLI/CLI.hpp"
#include "model_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Inspect, run and time mcunas int8 engine models"};
  app.require_subcommand(1);
  std::string model, input, output;
  mcunas::tools::KernelChoice kernels;
  int runs = 50, warmup = 5;

  CLI::App* info = app.add_subcommand(
      "info", "ops, shapes, params, MACs, peak SRAM and its lower bound, flash");
  info->add_option("MODEL", model, "model blob")->required();

  CLI::App* run = app.add_subcommand("run", "run one input, write the output");
  run->add_option("MODEL", model, "model blob")->required();
  run->add_option("IN", input, "raw int8 input bytes")->required();
  run->add_option("OUT", output, "where to write raw int8 output bytes")
      ->required();
  run->add_option("--kernels", kernels.name, "reference or optimized")
      ->check(CLI::IsMember({"reference", "optimized"}));

  CLI::App* bench =
      app.add_subcommand("bench", "median host latency of one inference");
  bench->add_option("MODEL", model, "model blob")->required();
  bench->add_option("--runs", runs, "timed runs")->check(CLI::Range(1, 100000));
  bench->add_option("--warmup", warmup, "untimed runs first")
      ->check(CLI::Range(0, 100000));
  bench->add_option("--kernels", kernels.name, "reference or optimized")
      ->check(CLI::IsMember({"reference", "optimized"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*info) return mcunas::tools::InfoCommand(model);
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
