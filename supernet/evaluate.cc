#include "mcunas/supernet/evaluate.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/interpreter.h"
#include "mcunas/engine/kernels.h"
#include "mcunas/supernet/ops.h"

namespace mcunas::supernet {

EvalResult EvaluateFloat(Mbnet& net, ThreadPool& pool, const BatchLoader& data,
                         int32_t batch_size, int64_t limit) {
  EvalResult result;
  const int64_t total = limit > 0 ? std::min(limit, data.size()) : data.size();
  Tensor images, logits;
  std::vector<int32_t> labels;
  for (int64_t b = 0; b * batch_size < total; ++b) {
    data.Fill(pool, 0, b, batch_size, false, &images, &labels);
    const int32_t keep = static_cast<int32_t>(
        std::min<int64_t>(labels.size(), total - b * batch_size));
    if (keep < static_cast<int32_t>(labels.size())) {
      const int64_t per = images.size() / images.dim(0);
      std::vector<int32_t> shape = images.shape();
      shape[0] = keep;
      Tensor cut(shape);
      std::copy(images.data(), images.data() + keep * per, cut.data());
      images = std::move(cut);
      labels.resize(keep);
    }
    net.Forward(pool, images, ForwardMode::kInfer, &logits);
    int64_t correct = 0;
    const double loss = SoftmaxCrossEntropy(logits, labels, nullptr, &correct);
    result.loss += loss * keep;
    result.correct += correct;
    result.images += keep;
  }
  if (result.images > 0) result.loss /= result.images;
  return result;
}

void RecalibrateBatchNorm(Mbnet& net, ThreadPool& pool, const BatchLoader& data,
                          int64_t images, int32_t batch_size) {
  net.ResetRunningStats();
  const int64_t total = std::min(images, data.size());
  Tensor batch, logits;
  std::vector<int32_t> labels;
  for (int64_t b = 0; b * batch_size < total; ++b) {
    data.Fill(pool, 0, b, batch_size, false, &batch, &labels);
    const int32_t keep = static_cast<int32_t>(
        std::min<int64_t>(labels.size(), total - b * batch_size));
    // A one-image batch has no variance to estimate: skip a tail that small.
    if (keep < 2) break;
    if (keep < static_cast<int32_t>(labels.size())) {
      std::vector<int32_t> shape = batch.shape();
      shape[0] = keep;
      batch.Resize(shape);
    }
    net.Forward(pool, batch, ForwardMode::kRecalibrate, &logits);
  }
}

absl::StatusOr<EvalResult> EvaluateSubnet(const ElasticSupernet& net,
                                          const searchspace::ArchSpec& arch,
                                          ThreadPool& pool,
                                          const BatchLoader& calibration,
                                          int64_t recalibration_images,
                                          const BatchLoader& data,
                                          int64_t limit) {
  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<Mbnet> sub, net.Extract(arch));
  RecalibrateBatchNorm(*sub, pool, calibration, recalibration_images);
  return EvaluateFloat(*sub, pool, data, 256, limit);
}

absl::StatusOr<std::vector<uint8_t>> ExportInt8(
    const engine::FloatGraph& graph, const BatchLoader& calibration,
    int32_t calibration_images, const engine::QuantizeOptions& options) {
  const int64_t n = std::min<int64_t>(calibration_images, calibration.size());
  if (n <= 0) {
    return absl::InvalidArgumentError("no calibration images");
  }
  std::vector<std::vector<float>> inputs;
  inputs.reserve(n);
  for (int64_t i = 0; i < n; ++i) inputs.push_back(calibration.Image(i));
  MCUNAS_ASSIGN_OR_RETURN(engine::QuantGraph q,
                          engine::QuantizeFloatGraph(graph, inputs, options));
  return engine::WriteModel(q);
}

absl::StatusOr<EvalResult> EvaluateInt8(const std::vector<uint8_t>& blob,
                                        const BatchLoader& data,
                                        int32_t threads, int64_t limit) {
  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<engine::LoadedModel> loaded,
                          engine::LoadedModel::FromBytes(blob));
  const engine::Model& model = loaded->model();
  const engine::TensorRecord& in = model.tensor(model.input(0));
  const int64_t total = limit > 0 ? std::min(limit, data.size()) : data.size();
  threads = std::max(1, threads);
  std::vector<int64_t> correct(threads, 0);
  std::vector<absl::Status> status(threads);
  auto work = [&](int t) {
    std::unique_ptr<uint8_t[]> storage(new uint8_t[model.arena_bytes() + 16]);
    uint8_t* arena = reinterpret_cast<uint8_t*>(
        (reinterpret_cast<uintptr_t>(storage.get()) + 15) & ~uintptr_t{15});
    engine::Interpreter interpreter(model, engine::OptimizedKernels());
    if (interpreter.Init(arena, model.arena_bytes()) != engine::Status::kOk) {
      status[t] = absl::InternalError("engine interpreter Init failed");
      return;
    }
    int64_t begin, end;
    ThreadPool::ChunkRange(total, threads, t, &begin, &end);
    const uint32_t in_bytes = interpreter.InputBytes(0);
    const uint32_t out_bytes = interpreter.OutputBytes(0);
    for (int64_t i = begin; i < end; ++i) {
      const std::vector<float> image = data.Image(i);
      if (image.size() != in_bytes) {
        status[t] = absl::InvalidArgumentError(absl::StrCat(
            "image has ", image.size(), " values, model input ", in_bytes));
        return;
      }
      int8_t* q = interpreter.Input(0);
      for (uint32_t k = 0; k < in_bytes; ++k) {
        const long v = std::lround(image[k] / in.scale) + in.zero_point;
        q[k] = static_cast<int8_t>(std::clamp(v, -128l, 127l));
      }
      if (interpreter.Invoke() != engine::Status::kOk) {
        status[t] = absl::InternalError(
            absl::StrCat("engine Invoke failed on image ", i));
        return;
      }
      const int8_t* out = interpreter.Output(0);
      const int64_t predicted = std::max_element(out, out + out_bytes) - out;
      if (predicted == data.Label(i)) ++correct[t];
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& th : pool) th.join();
  EvalResult result;
  for (int t = 0; t < threads; ++t) {
    MCUNAS_RETURN_IF_ERROR(status[t]);
    result.correct += correct[t];
  }
  result.images = total;
  return result;
}

}  // namespace mcunas::supernet
