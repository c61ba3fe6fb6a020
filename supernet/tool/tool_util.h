// Private to mcunas-supernet: what every subcommand shares — the logger,
// loading and splitting the data, the pipeline options, durations, the
// training progress line and the exit code of a status. Not thread-safe.
#ifndef MCUNAS_SUPERNET_TOOL_TOOL_UTIL_H_
#define MCUNAS_SUPERNET_TOOL_TOOL_UTIL_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "commands.h"
#include "mcunas/supernet/data_pipeline.h"
#include "mcunas/supernet/dataset.h"
#include "spdlog/spdlog.h"

namespace mcunas::supernet::tool {

// The "supernet" logger on stderr.
std::shared_ptr<spdlog::logger> Log();

struct Data {
  Dataset train;
  Dataset test;
  SplitIndices split;
  Normalization normalization;
};

// Loads train and test sets, splits validation from train and measures the
// normalisation on the training split.
absl::StatusOr<Data> LoadData(const DataFlags& flags);

// "3:07" or "1:02:03".
std::string Duration(double seconds);

// Plain (unaugmented) pipeline options at `resolution`.
PipelineOptions Pipeline(const Data& data, int32_t resolution);

// The progress line of a training run on stderr: redrawn in place on a
// terminal; otherwise logged, at most every 10 seconds, so that a log file
// stays short.
class ProgressLine {
 public:
  ProgressLine();

  void Show(const std::string& line);
  // Clears the line on a terminal, before the trainer logs a summary.
  void Clear();

 private:
  bool tty_;
  std::chrono::steady_clock::time_point last_{};
};

// 0 for OK; otherwise logs the error and returns 1.
int Exit(const absl::Status& status);

}  // namespace mcunas::supernet::tool

#endif  // MCUNAS_SUPERNET_TOOL_TOOL_UTIL_H_
