#include "tool_util.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mcunas/common/status_macros.h"
#include "spdlog/sinks/stdout_color_sinks.h"

namespace mcunas::supernet::tool {

std::shared_ptr<spdlog::logger> Log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    std::shared_ptr<spdlog::logger> existing = spdlog::get("supernet");
    return existing != nullptr ? existing : spdlog::stderr_color_mt("supernet");
  }();
  return logger;
}

namespace {

// Per-channel mean and standard deviation of the training images.
Normalization Measure(const Dataset& d, const std::vector<int64_t>& indices) {
  const int32_t c = d.channels;
  std::vector<double> s(c), ss(c);
  const int64_t pixels = static_cast<int64_t>(d.height) * d.width;
  for (int64_t i : indices) {
    const uint8_t* p = d.image(i);
    for (int64_t q = 0; q < pixels * c; ++q) {
      const double v = p[q] / 255.0;
      s[q % c] += v;
      ss[q % c] += v * v;
    }
  }
  Normalization n;
  n.mean.resize(c);
  n.std.resize(c);
  const double count = static_cast<double>(indices.size()) * pixels;
  for (int32_t k = 0; k < c; ++k) {
    const double mean = s[k] / count;
    n.mean[k] = static_cast<float>(mean);
    n.std[k] = static_cast<float>(
        std::max(1e-3, std::sqrt(std::max(0.0, ss[k] / count - mean * mean))));
  }
  return n;
}

}  // namespace

absl::StatusOr<Data> LoadData(const DataFlags& flags) {
  Data data;
  if (flags.data == "fashion-mnist") {
    MCUNAS_ASSIGN_OR_RETURN(data.train, LoadFashionMnist(Split::kTrain));
    MCUNAS_ASSIGN_OR_RETURN(data.test, LoadFashionMnist(Split::kTest));
  } else if (absl::StartsWith(flags.data, "idx:")) {
    const std::string dir = flags.data.substr(4);
    MCUNAS_ASSIGN_OR_RETURN(data.train, LoadFashionMnist(Split::kTrain, dir));
    MCUNAS_ASSIGN_OR_RETURN(data.test, LoadFashionMnist(Split::kTest, dir));
    data.train.class_names.clear();
    data.test.class_names.clear();
    data.train.name = dir + "/train";
    data.test.name = dir + "/test";
  } else if (absl::StartsWith(flags.data, "folder:")) {
    const std::string dir = flags.data.substr(7);
    MCUNAS_ASSIGN_OR_RETURN(data.train, LoadImageFolder(dir + "/train"));
    ImageFolderOptions same;
    same.height = data.train.height;
    same.width = data.train.width;
    same.channels = data.train.channels;
    MCUNAS_ASSIGN_OR_RETURN(data.test, LoadImageFolder(dir + "/test", same));
    if (data.test.class_names != data.train.class_names) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir, ": train/ and test/ have different class folders"));
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--data ", flags.data,
                     ": expected fashion-mnist, idx:DIR or folder:DIR"));
  }
  if (data.train.channels != data.test.channels ||
      data.train.classes != data.test.classes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "train and test sets differ: ", data.train.channels, " vs ",
        data.test.channels, " channels, ", data.train.classes, " vs ",
        data.test.classes, " classes"));
  }
  data.split = SplitTrainValidation(data.train, flags.validation_fraction,
                                    flags.split_seed);
  data.normalization = Measure(data.train, data.split.train);
  Log()->info(
      "data: {} train + {} validation images ({}x{}x{}, {} classes), "
      "{} test images",
      data.split.train.size(), data.split.validation.size(), data.train.height,
      data.train.width, data.train.channels, data.train.classes,
      data.test.size());
  return data;
}

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::max(0.0, seconds));
  if (s >= 3600)
    return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

PipelineOptions Pipeline(const Data& data, int32_t resolution) {
  PipelineOptions o;
  o.resolution = resolution;
  o.normalization = data.normalization;
  return o;
}

ProgressLine::ProgressLine() : tty_(isatty(STDERR_FILENO) != 0) {}

void ProgressLine::Show(const std::string& line) {
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
  } else if (now - last_ >= std::chrono::seconds(10)) {
    Log()->info("{}", line);
    last_ = now;
  }
}

void ProgressLine::Clear() {
  if (tty_) std::fprintf(stderr, "\r\033[K");
}

int Exit(const absl::Status& status) {
  if (status.ok()) return 0;
  Log()->error("{}", status.ToString());
  return 1;
}

}  // namespace mcunas::supernet::tool
