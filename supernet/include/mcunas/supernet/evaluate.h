// Accuracy of a trained net: in float (the Mbnet itself, running batch-norm
// statistics) and in int8 through the engine (export to FloatGraph, the
// engine's quantiser with calibration images, WriteModel, and the engine's
// interpreter with its optimised kernels, one per thread).
//
// Stateless functions; each uses the pool or threads it is given.
#ifndef MCUNAS_SUPERNET_EVALUATE_H_
#define MCUNAS_SUPERNET_EVALUATE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/engine/host/float_graph.h"
#include "mcunas/engine/host/quantizer.h"
#include "mcunas/searchspace/arch_spec.h"
#include "mcunas/supernet/data_pipeline.h"
#include "mcunas/supernet/elastic_supernet.h"
#include "mcunas/supernet/mbnet.h"
#include "mcunas/supernet/thread_pool.h"

namespace mcunas::supernet {

struct EvalResult {
  int64_t images = 0;
  int64_t correct = 0;
  double loss = 0.0;  // mean cross-entropy (float evaluation only)
  double accuracy() const {
    return images > 0 ? static_cast<double>(correct) / images : 0.0;
  }
};

// Inference-mode accuracy and loss over (at most `limit`, <= 0 for all)
// images of `data`, in index order.
EvalResult EvaluateFloat(Mbnet& net, ThreadPool& pool, const BatchLoader& data,
                         int32_t batch_size, int64_t limit = 0);

// BN recalibration (what a subnet extracted from a supernet needs before
// evaluation): resets the running statistics of `net` and sets them to the
// exact average of the batch statistics over the first `images` plain
// (unaugmented) images of `data`, in batches of `batch_size`.
void RecalibrateBatchNorm(Mbnet& net, ThreadPool& pool, const BatchLoader& data,
                          int64_t images, int32_t batch_size = 128);

// A subnet's float accuracy through the supernet: Extract(arch), BN
// recalibration on `recalibration_images` of `calibration`, then
// EvaluateFloat on (at most `limit`) images of `data`. InvalidArgument when
// `arch` is not in the supernet's space.
absl::StatusOr<EvalResult> EvaluateSubnet(const ElasticSupernet& net,
                                          const searchspace::ArchSpec& arch,
                                          ThreadPool& pool,
                                          const BatchLoader& calibration,
                                          int64_t recalibration_images,
                                          const BatchLoader& data,
                                          int64_t limit = 0);

// Quantises `graph` (engine::QuantizeFloatGraph) with the first
// `calibration_images` images of `calibration` and writes the engine blob.
absl::StatusOr<std::vector<uint8_t>> ExportInt8(
    const engine::FloatGraph& graph, const BatchLoader& calibration,
    int32_t calibration_images,
    const engine::QuantizeOptions& options = engine::QuantizeOptions());

// Runs the int8 blob on (at most `limit`) images of `data` with the engine's
// optimised kernels; each image is quantised with the model input's scale
// and zero point; the prediction is the arg max of the int8 output.
absl::StatusOr<EvalResult> EvaluateInt8(const std::vector<uint8_t>& blob,
                                        const BatchLoader& data,
                                        int32_t threads, int64_t limit = 0);

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_EVALUATE_H_
