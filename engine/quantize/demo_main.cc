// mcunas-demo: the engine end to end on one MBNet-style model. Builds a random
// MobileNetV2-style float model, calibrates and quantises it, writes the blob,
// loads it back from the file and runs it on the int8 engine; prints its cost
// (from the blob and its plan), its int8-vs-float top-1 agreement and its
// host latency.
//
//   mcunas-demo [--seed N] [--out var/demo/model.mcunas]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/float_reference.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_metrics.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/host/quantizer.h"
#include "mcunas/engine/host/random_model.h"
#include "mcunas/engine/interpreter.h"
#include "mcunas/engine/kernels.h"

namespace mcunas::engine {
namespace {

constexpr int kCalibrationImages = 64;
constexpr int kTestImages = 200;
constexpr int kTimedRuns = 50;

struct alignas(16) ArenaBlock {
  uint8_t bytes[16];
};

absl::Status WriteFile(const std::string& path,
                       const std::vector<uint8_t>& bytes) {
  std::error_code error;
  const std::filesystem::path parent =
      std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", parent.string(), ": ", error.message()));
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::Status EngineStatus(Status status, const char* what) {
  if (status == Status::kOk) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", StatusName(status)));
}

// Sample `sample` of the model's synthetic classes (see random_model.h);
// calibration and test use disjoint sample ranges.
std::vector<float> Image(uint32_t seed, const RandomMbv2Options& o,
                         uint32_t sample) {
  return RandomClassImage(seed, o, static_cast<int32_t>(sample % o.classes),
                          sample);
}

absl::Status Run(uint32_t seed, const std::string& out_path) {
  RandomMbv2Options options;  // R 32, W 0.5, k 3/5/7, e 3/4/6, 10 classes
  MCUNAS_ASSIGN_OR_RETURN(FloatGraph graph, RandomMbv2Graph(seed, options));
  std::printf(
      "model      MobileNetV2-style, seed %u: R %d, W %.2f, %zu ops, "
      "%d classes\n",
      seed, options.resolution, options.width_multiplier, graph.ops.size(),
      options.classes);

  std::vector<std::vector<float>> calibration;
  for (int i = 0; i < kCalibrationImages; ++i) {
    calibration.push_back(Image(seed, options, 1000 + i));
  }
  MCUNAS_ASSIGN_OR_RETURN(QuantGraph quantized,
                          QuantizeFloatGraph(graph, calibration));
  MCUNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> blob, WriteModel(quantized));
  MCUNAS_RETURN_IF_ERROR(WriteFile(out_path, blob));
  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<LoadedModel> loaded,
                          LoadedModel::FromFile(out_path));
  const Model& model = loaded->model();
  std::printf(
      "quantised  int8, %d calibration images (MSE clipping, bias correction); "
      "wrote %s\n",
      kCalibrationImages, out_path.c_str());

  const EngineMetrics m = ComputeMetrics(model);
  std::printf("params     %llu\n", static_cast<unsigned long long>(m.params));
  std::printf("MACs       %llu\n", static_cast<unsigned long long>(m.macs));
  std::printf("peak SRAM  %u bytes (lower bound %u)\n", m.peak_sram_bytes,
              m.sram_lower_bound);
  std::printf("flash      %u bytes (weights %u, op data %u)\n", m.flash_bytes,
              m.weight_bytes, m.op_data_bytes);

  std::vector<ArenaBlock> arena(model.arena_bytes() / 16 + 1);
  Interpreter interpreter(model, OptimizedKernels());
  MCUNAS_RETURN_IF_ERROR(
      EngineStatus(interpreter.Init(arena[0].bytes,
                                    static_cast<uint32_t>(arena.size() * 16)),
                   "interpreter init"));
  const TensorRecord& in = model.tensor(model.input(0));
  const QuantParams in_params{in.scale, in.zero_point};

  int agree = 0;
  std::vector<int8_t> first_input;
  for (int i = 0; i < kTestImages; ++i) {
    const std::vector<float> image = Image(seed, options, 2000 + i);
    MCUNAS_ASSIGN_OR_RETURN(std::vector<float> logits,
                            RunFloatGraphOutput(graph, image));
    const std::vector<int8_t> q = QuantizeValues(in_params, image);
    if (i == 0) first_input = q;
    std::copy(q.begin(), q.end(), interpreter.Input(0));
    MCUNAS_RETURN_IF_ERROR(EngineStatus(interpreter.Invoke(), "invoke"));
    const int8_t* out = interpreter.Output(0);
    const size_t n = interpreter.OutputBytes(0);
    agree += std::max_element(out, out + n) - out ==
             std::max_element(logits.begin(), logits.end()) - logits.begin();
  }
  std::printf("top-1      int8 agrees with float on %d/%d images (%.1f%%)\n",
              agree, kTestImages, 100.0 * agree / kTestImages);

  std::copy(first_input.begin(), first_input.end(), interpreter.Input(0));
  std::vector<double> micros;
  for (int i = 0; i < 5 + kTimedRuns; ++i) {
    const auto start = std::chrono::steady_clock::now();
    MCUNAS_RETURN_IF_ERROR(EngineStatus(interpreter.Invoke(), "invoke"));
    const auto end = std::chrono::steady_clock::now();
    if (i >= 5) {  // the first runs warm the caches
      micros.push_back(
          std::chrono::duration<double, std::micro>(end - start).count());
    }
  }
  std::nth_element(micros.begin(), micros.begin() + micros.size() / 2,
                   micros.end());
  std::printf("latency    %.1f us median over %d runs (host, %s kernels)\n",
              micros[micros.size() / 2], kTimedRuns, OptimizedKernels().name);
  return absl::OkStatus();
}

}  // namespace
}  // namespace mcunas::engine

int main(int argc, char** argv) {
  uint32_t seed = 1;
  std::string out = "var/demo/model.mcunas";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (std::strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
      out = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--seed N] [--out PATH]\n", argv[0]);
      return 2;
    }
  }
  const absl::Status status = mcunas::engine::Run(seed, out);
  if (!status.ok()) {
    std::fprintf(stderr, "mcunas-demo: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
