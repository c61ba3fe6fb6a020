// A static MBNet (MobileNetV2-style) classifier for float training: stem
// conv + BN + ReLU6; stages of inverted-residual blocks (1x1 expand + BN +
// ReLU6 unless the ratio is 1, depthwise k x k + BN + ReLU6 with the stage's
// stride on its first block, 1x1 project + BN, residual add when the block
// keeps the shape); 1x1 head conv + BN + ReLU6; global average pool; fully
// connected to the classes. The layout of the engine's MBNet models
// (random_model.h) and of the search space's, so a trained net exports to a
// FloatGraph op for op.
//
//   MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<Mbnet> net,
//                           Mbnet::Create(ReferenceMbnetConfig(0.5f, 28, 4, 7,
//                           6), 1));
//   net->Forward(pool, images, ForwardMode::kTrain, &logits);
//   SoftmaxCrossEntropy(logits, labels, &dlogits, nullptr);
//   net->Backward(pool, dlogits);   // fills every Parameter::grad
//
// The Mbnet owns its parameters and the activations of the last forward
// (kept for the backward). Not thread-safe; the pool parallelises each op.
#ifndef MCUNAS_SUPERNET_MBNET_H_
#define MCUNAS_SUPERNET_MBNET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mcunas/engine/host/float_graph.h"
#include "mcunas/supernet/tensor.h"
#include "mcunas/supernet/thread_pool.h"

namespace mcunas::supernet {

namespace internal {
struct MbnetLayer;  // mbnet_internal.h
struct MbnetBlock;
}  // namespace internal
class ElasticSupernet;

struct MbnetBlockConfig {
  int32_t kernel = 3;  // depthwise kernel (odd)
  int32_t expand = 6;  // expansion ratio; 1 = no expand conv
};

struct MbnetStageConfig {
  int32_t channels = 16;  // output channels of every block
  int32_t stride = 1;     // of the first block
  std::vector<MbnetBlockConfig> blocks;
};

struct MbnetConfig {
  int32_t resolution = 28;
  int32_t input_channels = 1;
  int32_t stem_channels = 16;
  int32_t stem_kernel = 3;
  int32_t stem_stride = 1;
  std::vector<MbnetStageConfig> stages;
  int32_t head_channels = 640;
  int32_t classes = 10;
  float bn_eps = 1e-5f;
  // Weight of the new batch statistic in the running averages (PyTorch's
  // default 0.1).
  float bn_momentum = 0.1f;
};

// InvalidArgument naming the field for non-positive sizes, even kernels,
// empty stages or a resolution that the strides reduce below 1.
absl::Status ValidateMbnetConfig(const MbnetConfig& config);

// The reference MBNet of the supernet issue: stem 3x3 of round(32 W)
// channels at `stem_stride`, five stages of round(W * {16, 24, 32, 64, 96})
// channels with strides {1, 2, 2, 1, 2}, each `depth` blocks of kernel
// `kernel` and ratio `expand`, head round(1280 W). W 0.5, R 28, d4 k7 e6
// (the largest subnet) is 25.2 M MACs; d2 k3 e3 (the smallest) 4.0 M.
MbnetConfig ReferenceMbnetConfig(float width, int32_t resolution, int32_t depth,
                                 int32_t kernel, int32_t expand,
                                 int32_t input_channels = 1,
                                 int32_t classes = 10);

// "r28 c1 stem16s1 | 8s1 k7e6,k7e6 | ... | head640 cls10"
std::string MbnetConfigString(const MbnetConfig& config);

// Multiply-accumulates of one inference (convs, fully connected) and the
// number of trainable values.
int64_t MbnetMacs(const MbnetConfig& config);

// A trainable tensor with its gradient (same size; written by Backward).
struct Parameter {
  std::string name;
  std::vector<float> value;
  std::vector<float> grad;
  // Weight decay applies to conv and fully connected weights only, not to
  // batch-norm scales/shifts or biases.
  bool decay = true;
};

// A batch norm's running statistics (inference and export use them).
struct RunningStats {
  std::string name;
  std::vector<float> mean;
  std::vector<float> var;
};

enum class ForwardMode {
  // Batch statistics; running statistics updated with bn_momentum; keeps
  // activations for Backward.
  kTrain,
  // Running statistics; nothing kept.
  kInfer,
  // Batch statistics for normalising; running statistics become the exact
  // average of the batch statistics of every kRecalibrate forward since
  // ResetRunningStats (BN recalibration of a subnet). Nothing kept.
  kRecalibrate,
};

class Mbnet {
 public:
  // He-normal (fan out) conv weights, N(0, 0.01) classifier, BN gamma 1 and
  // beta 0; deterministic in `seed`.
  static absl::StatusOr<std::unique_ptr<Mbnet>> Create(
      const MbnetConfig& config, uint64_t seed);
  ~Mbnet();
  Mbnet(const Mbnet&) = delete;
  Mbnet& operator=(const Mbnet&) = delete;

  const MbnetConfig& config() const { return config_; }

  // images {N, R, R, C} -> logits {N, classes}. REQUIRES: the shape matches
  // the config (checked: a mismatch is a programming error and aborts).
  void Forward(ThreadPool& pool, const Tensor& images, ForwardMode mode,
               Tensor* logits);
  // Gradients of every parameter from d loss / d logits of the last
  // kTrain forward. REQUIRES: the last Forward used ForwardMode::kTrain.
  void Backward(ThreadPool& pool, const Tensor& dlogits);

  // In a fixed order (stable across runs and builds of the same config).
  std::vector<Parameter*> Parameters();
  std::vector<RunningStats*> BatchNormStats();
  void ResetRunningStats();
  int64_t ParameterCount() const;

  // The net in inference form: a FloatGraph (batch 1, NHWC input
  // {1, R, R, C}) with each batch norm's running statistics on its conv,
  // ready for engine::QuantizeFloatGraph.
  absl::StatusOr<engine::FloatGraph> ExportFloatGraph() const;

 private:
  using Layer = internal::MbnetLayer;
  using Block = internal::MbnetBlock;
  // The supernet keeps its shared weights in the Mbnet of its largest
  // subnet and runs that net's stem, head and classifier directly.
  friend class ElasticSupernet;
  explicit Mbnet(const MbnetConfig& config);

  MbnetConfig config_;
  std::unique_ptr<Layer> stem_;
  std::vector<std::unique_ptr<Block>> blocks_;
  std::unique_ptr<Layer> head_;
  Parameter fc_weight_, fc_bias_;
  // Forward state kept for Backward.
  Tensor pooled_;
  bool have_train_forward_ = false;
  int64_t recalibration_batches_ = 0;
  Tensor grad_pooled_, grad_head_;
};

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_MBNET_H_
