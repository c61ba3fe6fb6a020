#include "mcunas/supernet/mbnet.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mbnet_internal.h"
#include "mcunas/engine/host/quant_graph.h"

namespace mcunas::supernet {
namespace {

int32_t Scaled(float width, int32_t channels) {
  return std::max<int32_t>(1,
                           static_cast<int32_t>(std::lround(width * channels)));
}

}  // namespace

std::unique_ptr<internal::MbnetLayer> internal::MakeMbnetLayer(
    std::string name, bool depthwise, int32_t in_channels, int32_t out_channels,
    int32_t kernel, int32_t stride, bool relu6, std::mt19937_64* rng) {
  auto layer = std::make_unique<internal::MbnetLayer>();
  layer->name = name;
  layer->depthwise = depthwise;
  layer->shape.kernel_h = layer->shape.kernel_w = kernel;
  layer->shape.stride_h = layer->shape.stride_w = stride;
  layer->shape.out_channels = out_channels;
  layer->relu6 = relu6;
  const int64_t weights =
      depthwise ? int64_t{kernel} * kernel * out_channels
                : int64_t{out_channels} * kernel * kernel * in_channels;
  // He normal over fan-out (kernel area * output channels), as OFA and
  // torchvision's MobileNetV2 initialise.
  std::normal_distribution<float> normal(
      0.0f, std::sqrt(2.0f / (kernel * kernel * out_channels)));
  layer->weight = {name + ".conv", std::vector<float>(weights),
                   std::vector<float>(weights), true};
  for (float& v : layer->weight.value) v = normal(*rng);
  layer->gamma = {name + ".bn.gamma", std::vector<float>(out_channels, 1.0f),
                  std::vector<float>(out_channels), false};
  layer->beta = {name + ".bn.beta", std::vector<float>(out_channels, 0.0f),
                 std::vector<float>(out_channels), false};
  layer->stats = {name + ".bn", std::vector<float>(out_channels, 0.0f),
                  std::vector<float>(out_channels, 1.0f)};
  return layer;
}

absl::Status ValidateMbnetConfig(const MbnetConfig& c) {
  auto bad = [](std::string what) {
    return absl::InvalidArgumentError(absl::StrCat("MBNet config: ", what));
  };
  if (c.resolution <= 0) return bad("resolution must be positive");
  if (c.input_channels <= 0) return bad("input_channels must be positive");
  if (c.stem_channels <= 0) return bad("stem_channels must be positive");
  if (c.stem_kernel <= 0 || c.stem_kernel % 2 == 0) {
    return bad("stem_kernel must be odd and positive");
  }
  if (c.stem_stride <= 0) return bad("stem_stride must be positive");
  if (c.head_channels <= 0) return bad("head_channels must be positive");
  if (c.classes <= 1) return bad("classes must be at least 2");
  if (c.stages.empty()) return bad("no stages");
  if (!(c.bn_eps > 0.0f) || !(c.bn_momentum > 0.0f && c.bn_momentum <= 1.0f)) {
    return bad("bn_eps must be > 0 and bn_momentum in (0, 1]");
  }
  for (size_t s = 0; s < c.stages.size(); ++s) {
    const MbnetStageConfig& st = c.stages[s];
    if (st.channels <= 0 || st.stride <= 0) {
      return bad(
          absl::StrCat("stage ", s, ": channels and stride must be positive"));
    }
    if (st.blocks.empty())
      return bad(absl::StrCat("stage ", s, " has no blocks"));
    for (size_t b = 0; b < st.blocks.size(); ++b) {
      const MbnetBlockConfig& bl = st.blocks[b];
      if (bl.kernel <= 0 || bl.kernel % 2 == 0 || bl.kernel > 15) {
        return bad(absl::StrCat("stage ", s, " block ", b,
                                ": kernel must be odd, 1 to 15"));
      }
      if (bl.expand <= 0) {
        return bad(absl::StrCat("stage ", s, " block ", b,
                                ": expand must be positive"));
      }
    }
  }
  return absl::OkStatus();
}

MbnetConfig ReferenceMbnetConfig(float width, int32_t resolution, int32_t depth,
                                 int32_t kernel, int32_t expand,
                                 int32_t input_channels, int32_t classes) {
  MbnetConfig c;
  c.resolution = resolution;
  c.input_channels = input_channels;
  c.stem_channels = Scaled(width, 32);
  c.stem_kernel = 3;
  c.stem_stride = 1;
  const int32_t channels[] = {16, 24, 32, 64, 96};
  const int32_t strides[] = {1, 2, 2, 1, 2};
  for (int s = 0; s < 5; ++s) {
    MbnetStageConfig stage;
    stage.channels = Scaled(width, channels[s]);
    stage.stride = strides[s];
    stage.blocks.assign(depth, MbnetBlockConfig{kernel, expand});
    c.stages.push_back(stage);
  }
  c.head_channels = Scaled(width, 1280);
  c.classes = classes;
  return c;
}

std::string MbnetConfigString(const MbnetConfig& c) {
  std::vector<std::string> parts;
  parts.push_back(absl::StrCat("r", c.resolution, " c", c.input_channels,
                               " stem", c.stem_channels, "k", c.stem_kernel,
                               "s", c.stem_stride));
  for (const MbnetStageConfig& st : c.stages) {
    std::vector<std::string> blocks;
    for (const MbnetBlockConfig& b : st.blocks) {
      blocks.push_back(absl::StrCat("k", b.kernel, "e", b.expand));
    }
    parts.push_back(absl::StrCat(st.channels, "s", st.stride, " ",
                                 absl::StrJoin(blocks, ",")));
  }
  parts.push_back(absl::StrCat("head", c.head_channels, " cls", c.classes));
  return absl::StrJoin(parts, " | ");
}

int64_t MbnetMacs(const MbnetConfig& c) {
  auto out = [](int32_t in, int32_t k, int32_t s) {
    return int64_t{engine::ComputeSamePadding(in, k, s).out};
  };
  int64_t r = out(c.resolution, c.stem_kernel, c.stem_stride);
  int64_t macs = r * r * c.stem_channels * c.stem_kernel * c.stem_kernel *
                 c.input_channels;
  int64_t channels = c.stem_channels;
  for (const MbnetStageConfig& st : c.stages) {
    for (size_t b = 0; b < st.blocks.size(); ++b) {
      const MbnetBlockConfig& bl = st.blocks[b];
      const int64_t mid = channels * bl.expand;
      if (bl.expand != 1) macs += r * r * channels * mid;
      r = out(static_cast<int32_t>(r), bl.kernel, b == 0 ? st.stride : 1);
      macs += r * r * mid * bl.kernel * bl.kernel + r * r * mid * st.channels;
      channels = st.channels;
    }
  }
  macs += r * r * channels * c.head_channels;
  macs += int64_t{c.head_channels} * c.classes;
  return macs;
}

void internal::MbnetLayer::Forward(ThreadPool& pool, const Tensor& x,
                                   ForwardMode mode, const MbnetConfig& config,
                                   int64_t recalibration_batches) {
  input = &x;
  // Inference uses the running statistics, so needs no sums of y.
  ChannelStats* sums = mode == ForwardMode::kInfer ? nullptr : &y_sums;
  if (depthwise) {
    DepthwiseForward(pool, x, weight.value.data(), shape, &y, sums);
  } else {
    Conv2DForward(pool, x, weight.value.data(), shape, &y, sums);
  }
  if (mode == ForwardMode::kInfer) {
    BatchNormInferForward(pool, y, gamma.value.data(), beta.value.data(),
                          stats.mean.data(), stats.var.data(), config.bn_eps,
                          relu6, &z);
    return;
  }
  BatchNormTrainForward(pool, y, gamma.value.data(), beta.value.data(),
                        config.bn_eps, relu6, &cache, &z, sums);
  // Running variance is unbiased, as PyTorch keeps it.
  const double rows = static_cast<double>(y.size() / y.dim(3));
  const double unbias = rows > 1 ? rows / (rows - 1) : 1.0;
  const double m = mode == ForwardMode::kTrain
                       ? config.bn_momentum
                       : 1.0 / static_cast<double>(recalibration_batches + 1);
  for (size_t c = 0; c < stats.mean.size(); ++c) {
    stats.mean[c] =
        static_cast<float>((1 - m) * stats.mean[c] + m * cache.mean[c]);
    stats.var[c] =
        static_cast<float>((1 - m) * stats.var[c] + m * cache.var[c] * unbias);
  }
}

void internal::MbnetLayer::Backward(ThreadPool& pool, const Tensor& dz,
                                    bool input_gradient) {
  BatchNormTrainBackward(pool, y, dz, gamma.value.data(), cache, relu6, &y,
                         gamma.grad.data(), beta.grad.data());
  Tensor* dx = input_gradient ? &grad_input : nullptr;
  if (depthwise) {
    DepthwiseBackward(pool, *input, weight.value.data(), shape, y, dx,
                      weight.grad.data());
  } else {
    Conv2DBackward(pool, *input, weight.value.data(), shape, y, dx,
                   weight.grad.data());
  }
}

const Tensor& internal::MbnetBlock::Forward(ThreadPool& pool, const Tensor& x,
                                            ForwardMode mode,
                                            const MbnetConfig& config,
                                            int64_t recalibration_batches) {
  const Tensor* h = &x;
  if (expand != nullptr) {
    expand->Forward(pool, x, mode, config, recalibration_batches);
    h = &expand->z;
  }
  depthwise->Forward(pool, *h, mode, config, recalibration_batches);
  project->Forward(pool, depthwise->z, mode, config, recalibration_batches);
  // The project layer has no ReLU6, so its backward does not read z: the
  // residual sum can replace it.
  if (residual) AccumulateInto(pool, x, &project->z);
  return project->z;
}

Tensor* internal::MbnetBlock::Backward(ThreadPool& pool, const Tensor& dout) {
  project->Backward(pool, dout, true);
  depthwise->Backward(pool, project->grad_input, true);
  Tensor* dx = &depthwise->grad_input;
  if (expand != nullptr) {
    expand->Backward(pool, depthwise->grad_input, true);
    dx = &expand->grad_input;
  }
  if (residual) AccumulateInto(pool, dout, dx);
  return dx;
}

Mbnet::Mbnet(const MbnetConfig& config) : config_(config) {}
Mbnet::~Mbnet() = default;

absl::StatusOr<std::unique_ptr<Mbnet>> Mbnet::Create(const MbnetConfig& config,
                                                     uint64_t seed) {
  if (absl::Status s = ValidateMbnetConfig(config); !s.ok()) return s;
  std::unique_ptr<Mbnet> net(new Mbnet(config));
  std::mt19937_64 rng(seed);
  net->stem_ = internal::MakeMbnetLayer(
      "stem", false, config.input_channels, config.stem_channels,
      config.stem_kernel, config.stem_stride, true, &rng);
  int32_t channels = config.stem_channels;
  for (size_t s = 0; s < config.stages.size(); ++s) {
    const MbnetStageConfig& st = config.stages[s];
    for (size_t b = 0; b < st.blocks.size(); ++b) {
      const MbnetBlockConfig& bl = st.blocks[b];
      const std::string name = absl::StrCat("s", s + 1, ".b", b);
      const int32_t stride = b == 0 ? st.stride : 1;
      const int32_t mid = channels * bl.expand;
      auto block = std::make_unique<Block>();
      if (bl.expand != 1) {
        block->expand = internal::MakeMbnetLayer(
            name + ".expand", false, channels, mid, 1, 1, true, &rng);
      }
      block->depthwise = internal::MakeMbnetLayer(
          name + ".dw", true, mid, mid, bl.kernel, stride, true, &rng);
      block->project = internal::MakeMbnetLayer(name + ".project", false, mid,
                                                st.channels, 1, 1, false, &rng);
      block->residual = stride == 1 && channels == st.channels;
      net->blocks_.push_back(std::move(block));
      channels = st.channels;
    }
  }
  net->head_ = internal::MakeMbnetLayer("head", false, channels,
                                        config.head_channels, 1, 1, true, &rng);
  const int64_t fc = int64_t{config.classes} * config.head_channels;
  net->fc_weight_ = {"fc.weight", std::vector<float>(fc),
                     std::vector<float>(fc), true};
  std::normal_distribution<float> normal(0.0f, 0.01f);
  for (float& v : net->fc_weight_.value) v = normal(rng);
  net->fc_bias_ = {"fc.bias", std::vector<float>(config.classes, 0.0f),
                   std::vector<float>(config.classes), false};
  return net;
}

void Mbnet::Forward(ThreadPool& pool, const Tensor& images, ForwardMode mode,
                    Tensor* logits) {
  const int32_t r = config_.resolution;
  if (images.rank() != 4 || images.dim(1) != r || images.dim(2) != r ||
      images.dim(3) != config_.input_channels) {
    std::fprintf(stderr,
                 "Mbnet::Forward: images %s, net expects [N, %d, %d, %d]\n",
                 images.ShapeString().c_str(), r, r, config_.input_channels);
    std::abort();
  }
  stem_->Forward(pool, images, mode, config_, recalibration_batches_);
  const Tensor* h = &stem_->z;
  for (const std::unique_ptr<Block>& block : blocks_) {
    h = &block->Forward(pool, *h, mode, config_, recalibration_batches_);
  }
  head_->Forward(pool, *h, mode, config_, recalibration_batches_);
  GlobalAvgPoolForward(pool, head_->z, &pooled_);
  FullyConnectedForward(pooled_, fc_weight_.value.data(), fc_bias_.value.data(),
                        config_.classes, logits);
  have_train_forward_ = mode == ForwardMode::kTrain;
  if (mode == ForwardMode::kRecalibrate) ++recalibration_batches_;
}

void Mbnet::Backward(ThreadPool& pool, const Tensor& dlogits) {
  if (!have_train_forward_) {
    std::fprintf(stderr, "Mbnet::Backward without a kTrain forward\n");
    std::abort();
  }
  FullyConnectedBackward(pooled_, fc_weight_.value.data(), config_.classes,
                         dlogits, &grad_pooled_, fc_weight_.grad.data(),
                         fc_bias_.grad.data());
  GlobalAvgPoolBackward(pool, head_->z.shape(), grad_pooled_, &grad_head_);
  head_->Backward(pool, grad_head_, true);
  const Tensor* grad = &head_->grad_input;
  for (auto it = blocks_.rbegin(); it != blocks_.rend(); ++it) {
    grad = (*it)->Backward(pool, *grad);
  }
  stem_->Backward(pool, *grad, false);
}

std::vector<Parameter*> Mbnet::Parameters() {
  std::vector<Parameter*> out;
  auto add = [&](Layer* l) {
    out.push_back(&l->weight);
    out.push_back(&l->gamma);
    out.push_back(&l->beta);
  };
  add(stem_.get());
  for (const std::unique_ptr<Block>& b : blocks_) {
    if (b->expand != nullptr) add(b->expand.get());
    add(b->depthwise.get());
    add(b->project.get());
  }
  add(head_.get());
  out.push_back(&fc_weight_);
  out.push_back(&fc_bias_);
  return out;
}

std::vector<RunningStats*> Mbnet::BatchNormStats() {
  std::vector<RunningStats*> out;
  out.push_back(&stem_->stats);
  for (const std::unique_ptr<Block>& b : blocks_) {
    if (b->expand != nullptr) out.push_back(&b->expand->stats);
    out.push_back(&b->depthwise->stats);
    out.push_back(&b->project->stats);
  }
  out.push_back(&head_->stats);
  return out;
}

void Mbnet::ResetRunningStats() {
  for (RunningStats* s : BatchNormStats()) {
    std::fill(s->mean.begin(), s->mean.end(), 0.0f);
    std::fill(s->var.begin(), s->var.end(), 1.0f);
  }
  recalibration_batches_ = 0;
}

int64_t Mbnet::ParameterCount() const {
  auto layer = [](const Layer& l) {
    return static_cast<int64_t>(l.weight.value.size() + l.gamma.value.size() +
                                l.beta.value.size());
  };
  int64_t n =
      layer(*stem_) + layer(*head_) +
      static_cast<int64_t>(fc_weight_.value.size() + fc_bias_.value.size());
  for (const std::unique_ptr<Block>& b : blocks_) {
    if (b->expand != nullptr) n += layer(*b->expand);
    n += layer(*b->depthwise) + layer(*b->project);
  }
  return n;
}

}  // namespace mcunas::supernet
