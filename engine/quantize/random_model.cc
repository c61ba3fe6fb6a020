#include "mcunas/engine/host/random_model.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/float_reference.h"

namespace mcunas::engine {
namespace {

constexpr double kPi = 3.14159265358979323846;
// Batch-norm gamma scale of the last conv of a residual branch.
constexpr double kResidualGamma = 0.3;

// Our own distributions on top of mt19937 (whose output is specified by the
// standard, unlike std::normal_distribution's), so a seed means the same
// model with every standard library.
class Rng {
 public:
  explicit Rng(uint32_t seed) : engine_(seed) {}

  double Uniform() {                                // [0, 1)
    return (engine_() >> 5) * (1.0 / 134217728.0);  // 27 random bits
  }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  double Normal() {                     // Box-Muller
    const double u1 = 1.0 - Uniform();  // (0, 1]
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
  }
  int32_t Pick(const std::vector<int32_t>& choices) {
    return choices[engine_() % choices.size()];
  }

 private:
  std::mt19937 engine_;
};

// A seed for item `b` of stream `a` (murmur3's finaliser of a mix).
uint32_t MixSeed(uint32_t a, uint32_t b) {
  uint32_t h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u + (a << 6) + (a >> 2));
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

// MobileNet's _make_divisible: nearest multiple of 8, at least 8, and not
// below 90% of the value.
int32_t RoundChannels(double channels) {
  int32_t c = std::max(8, static_cast<int32_t>(channels + 4) / 8 * 8);
  if (c < 0.9 * channels) c += 8;
  return c;
}

// Builds the graph op by op while evaluating it on the probe images, so that
// each batch norm can be set from the statistics of its own input.
class Builder {
 public:
  Builder(uint32_t seed, const RandomMbv2Options& options) : rng_(seed) {
    const int32_t r = options.resolution;
    AddGraphInput(&graph_, "input", {1, r, r, options.input_channels});
    for (int32_t cls = 0; cls < options.classes; ++cls) {
      for (int32_t i = 0; i < options.samples_per_class; ++i) {
        probes_.push_back({RandomClassImage(seed, options, cls, i)});
        probe_class_.push_back(cls);
      }
    }
  }

  // `gamma_scale` scales the batch-norm gammas (the output's spread).
  absl::StatusOr<int32_t> Conv(int32_t x, int32_t out_channels, int32_t kernel,
                               int32_t stride, Activation activation,
                               std::string name, double gamma_scale = 1.0) {
    FloatOp op;
    op.type = FloatOpType::kConv2D;
    op.kernel_h = op.kernel_w = kernel;
    op.stride_h = op.stride_w = stride;
    op.out_channels = out_channels;
    const int32_t fan_in = kernel * kernel * Channels(x);
    op.weights = HeWeights(int64_t{out_channels} * fan_in, fan_in);
    return WithBatchNorm(x, std::move(op), activation, std::move(name),
                         gamma_scale);
  }

  absl::StatusOr<int32_t> Depthwise(int32_t x, int32_t kernel, int32_t stride,
                                    std::string name) {
    FloatOp op;
    op.type = FloatOpType::kDepthwiseConv2D;
    op.kernel_h = op.kernel_w = kernel;
    op.stride_h = op.stride_w = stride;
    op.weights =
        HeWeights(int64_t{kernel} * kernel * Channels(x), kernel * kernel);
    return WithBatchNorm(x, std::move(op), Activation::kRelu6, std::move(name),
                         1.0);
  }

  absl::StatusOr<int32_t> Add(int32_t a, int32_t b, std::string name) {
    FloatOp op;
    op.type = FloatOpType::kAdd;
    op.inputs = {a, b};
    return Append(std::move(op), std::move(name));
  }

  absl::StatusOr<int32_t> GlobalPool(int32_t x, std::string name) {
    FloatOp op;
    op.type = FloatOpType::kGlobalAveragePool;
    op.inputs = {x};
    return Append(std::move(op), std::move(name));
  }

  // Fully connected. With probes, the nearest-class-mean rule on the probes'
  // features f: logit_k = s * (<f, m_k> - |m_k|^2 / 2) in coordinates
  // centred on the mean of all probes (m_k: class k's mean), whose argmax is
  // the nearest class mean; s scales the logits to a few units.
  absl::StatusOr<int32_t> Classifier(int32_t x, int32_t classes,
                                     std::string name) {
    FloatOp op;
    op.type = FloatOpType::kFullyConnected;
    op.out_channels = classes;
    op.inputs = {x};
    const int32_t n = Channels(x);
    if (probes_.empty()) {
      op.weights = HeWeights(int64_t{classes} * n, n);
      op.bias.resize(classes);
      for (float& b : op.bias) b = static_cast<float>(0.1 * rng_.Normal());
      return Append(std::move(op), std::move(name));
    }
    std::vector<double> mu(n, 0.0);
    std::vector<std::vector<double>> means(classes, std::vector<double>(n));
    std::vector<int32_t> counts(classes, 0);
    for (size_t p = 0; p < probes_.size(); ++p) {
      const std::vector<float>& f = probes_[p][x];
      ++counts[probe_class_[p]];
      for (int32_t c = 0; c < n; ++c) {
        mu[c] += f[c] / static_cast<double>(probes_.size());
        means[probe_class_[p]][c] += f[c];
      }
    }
    double mean_norm = 0.0;  // mean over classes of |m_k|^2
    std::vector<double> norms(classes, 0.0);
    for (int32_t k = 0; k < classes; ++k) {
      for (int32_t c = 0; c < n; ++c) {
        means[k][c] = means[k][c] / counts[k] - mu[c];
        norms[k] += means[k][c] * means[k][c];
      }
      mean_norm += norms[k] / classes;
    }
    const double s = 4.0 / std::max(mean_norm, 1e-12);
    op.weights.resize(int64_t{classes} * n);
    op.bias.resize(classes);
    for (int32_t k = 0; k < classes; ++k) {
      double b = -norms[k] / 2.0;  // and -<m_k, mu> for the centring
      for (int32_t c = 0; c < n; ++c) {
        op.weights[k * n + c] = static_cast<float>(s * means[k][c]);
        b -= means[k][c] * mu[c];
      }
      op.bias[k] = static_cast<float>(s * b);
    }
    return Append(std::move(op), std::move(name));
  }

  int32_t Channels(int32_t t) const { return graph_.tensors[t].shape.back(); }
  Rng& rng() { return rng_; }
  FloatGraph Finish(int32_t output) && {
    graph_.output = output;
    return std::move(graph_);
  }

 private:
  std::vector<float> HeWeights(int64_t count, int32_t fan_in) {
    const double stddev = std::sqrt(2.0 / fan_in);
    std::vector<float> w(count);
    for (float& v : w) v = static_cast<float>(stddev * rng_.Normal());
    return w;
  }

  // Adds batch norm, then appends. Random gamma; beta random around 0 for a
  // linear output, and in [1, 2] gammas before a ReLU6, so most units are
  // active: with beta around 0, half of every layer is cut off and a random
  // network this deep is chaotic (a 40 dB input perturbation leaves 18 dB at
  // the logits) and cannot tell its classes apart. Mean and variance come
  // from the probes (random without probes).
  absl::StatusOr<int32_t> WithBatchNorm(int32_t x, FloatOp op,
                                        Activation activation, std::string name,
                                        double gamma_scale) {
    op.inputs = {x};
    const int32_t channels = OutputChannels(graph_, op);
    BatchNorm bn;
    bn.gamma.resize(channels);
    bn.beta.resize(channels);
    bn.mean.resize(channels);
    bn.var.resize(channels);
    for (int32_t c = 0; c < channels; ++c) {
      const double gamma = gamma_scale * rng_.Uniform(0.5, 1.5);
      bn.gamma[c] = static_cast<float>(gamma);
      bn.beta[c] = static_cast<float>(activation == Activation::kNone
                                          ? 0.3 * gamma * rng_.Normal()
                                          : gamma * rng_.Uniform(1.0, 2.0));
      bn.mean[c] = static_cast<float>(0.2 * rng_.Normal());
      bn.var[c] = static_cast<float>(rng_.Uniform(0.5, 2.0));
    }
    if (!probes_.empty()) {
      MCUNAS_ASSIGN_OR_RETURN(std::vector<double> mean,
                              ProbeMeans(op, name + "/probe", &bn.var));
      for (int32_t c = 0; c < channels; ++c) {
        bn.mean[c] = static_cast<float>(mean[c]);
      }
    }
    op.batch_norm = std::move(bn);
    op.activation = activation;
    return Append(std::move(op), std::move(name));
  }

  // Per-channel mean (and, if `var` is set, variance) of `op`'s output over
  // every probe and position, computed on a scratch copy of the graph.
  absl::StatusOr<std::vector<double>> ProbeMeans(
      const FloatOp& op, std::string name, std::vector<float>* var = nullptr) {
    FloatGraph scratch = graph_;
    MCUNAS_ASSIGN_OR_RETURN(int32_t out, AppendOp(&scratch, op, name));
    const int32_t channels = scratch.tensors[out].shape.back();
    std::vector<double> sum(channels, 0.0), sum_sq(channels, 0.0);
    double count = 0.0;
    for (FloatTensorValues& values : probes_) {
      values.resize(scratch.tensors.size());
      MCUNAS_RETURN_IF_ERROR(RunFloatOp(scratch, scratch.ops.back(), &values));
      const std::vector<float>& y = values[out];
      for (size_t i = 0; i < y.size(); ++i) {
        sum[i % channels] += y[i];
        sum_sq[i % channels] += double{y[i]} * y[i];
      }
      count += static_cast<double>(y.size() / channels);
      values.resize(graph_.tensors.size());
    }
    for (int32_t c = 0; c < channels; ++c) {
      sum[c] /= count;
      if (var != nullptr) {
        // Floor: a channel that is constant over the probes keeps a sane
        // scale instead of being blown up.
        (*var)[c] = static_cast<float>(
            std::max(sum_sq[c] / count - sum[c] * sum[c], 1e-4));
      }
    }
    return sum;
  }

  absl::StatusOr<int32_t> Append(FloatOp op, std::string name) {
    op.name = name;
    MCUNAS_ASSIGN_OR_RETURN(int32_t out,
                            AppendOp(&graph_, std::move(op), std::move(name)));
    for (FloatTensorValues& values : probes_) {
      values.resize(graph_.tensors.size());
      MCUNAS_RETURN_IF_ERROR(RunFloatOp(graph_, graph_.ops.back(), &values));
    }
    return out;
  }

  Rng rng_;
  FloatGraph graph_;
  std::vector<FloatTensorValues> probes_;
  std::vector<int32_t> probe_class_;  // the class of each probe
};

absl::Status CheckOptions(const RandomMbv2Options& o) {
  const auto positive = [](int32_t v, const char* what) -> absl::Status {
    if (v < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " must be positive, got ", v));
    }
    return absl::OkStatus();
  };
  MCUNAS_RETURN_IF_ERROR(positive(o.resolution, "resolution"));
  MCUNAS_RETURN_IF_ERROR(positive(o.input_channels, "input_channels"));
  MCUNAS_RETURN_IF_ERROR(positive(o.stem_channels, "stem_channels"));
  MCUNAS_RETURN_IF_ERROR(positive(o.stem_stride, "stem_stride"));
  MCUNAS_RETURN_IF_ERROR(positive(o.head_channels, "head_channels"));
  MCUNAS_RETURN_IF_ERROR(positive(o.classes, "classes"));
  if (!(o.width_multiplier > 0.0f) || !std::isfinite(o.width_multiplier)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "width_multiplier must be positive, got ", o.width_multiplier));
  }
  if (o.samples_per_class < 0) {
    return absl::InvalidArgumentError("samples_per_class must not be negative");
  }
  if (o.stages.empty()) return absl::InvalidArgumentError("no stages");
  for (size_t s = 0; s < o.stages.size(); ++s) {
    const Mbv2Stage& st = o.stages[s];
    if (st.channels < 1 || st.depth < 1 || st.stride < 1 || st.expand < 0 ||
        st.kernel < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("stage ", s, " has a non-positive size"));
    }
    if (st.expand == 0 && o.expand_choices.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("stage ", s, " needs expand_choices"));
    }
    if (st.kernel == 0 && o.kernel_choices.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("stage ", s, " needs kernel_choices"));
    }
  }
  for (int32_t v : o.kernel_choices) {
    MCUNAS_RETURN_IF_ERROR(positive(v, "kernel choice"));
  }
  for (int32_t v : o.expand_choices) {
    MCUNAS_RETURN_IF_ERROR(positive(v, "expand choice"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FloatGraph> RandomMbv2Graph(uint32_t seed,
                                           const RandomMbv2Options& options) {
  MCUNAS_RETURN_IF_ERROR(CheckOptions(options));
  const double w = options.width_multiplier;
  Builder b(seed, options);
  MCUNAS_ASSIGN_OR_RETURN(
      int32_t x, b.Conv(0, RoundChannels(options.stem_channels * w), 3,
                        options.stem_stride, Activation::kRelu6, "stem"));
  for (size_t s = 0; s < options.stages.size(); ++s) {
    const Mbv2Stage& stage = options.stages[s];
    const int32_t out_channels = RoundChannels(stage.channels * w);
    for (int32_t i = 0; i < stage.depth; ++i) {
      const std::string name = absl::StrCat("s", s, "b", i);
      const int32_t stride = i == 0 ? stage.stride : 1;
      const int32_t expand = stage.expand > 0
                                 ? stage.expand
                                 : b.rng().Pick(options.expand_choices);
      const int32_t kernel = stage.kernel > 0
                                 ? stage.kernel
                                 : b.rng().Pick(options.kernel_choices);
      const int32_t in_channels = b.Channels(x);
      int32_t y = x;
      if (expand != 1) {
        MCUNAS_ASSIGN_OR_RETURN(
            y, b.Conv(y, in_channels * expand, 1, 1, Activation::kRelu6,
                      name + "/expand"));
      }
      MCUNAS_ASSIGN_OR_RETURN(y, b.Depthwise(y, kernel, stride, name + "/dw"));
      // A residual branch adds a smaller correction to its input, as in
      // trained networks (cf. zero-initialised last BN gammas).
      const bool residual = stride == 1 && in_channels == out_channels;
      MCUNAS_ASSIGN_OR_RETURN(
          y, b.Conv(y, out_channels, 1, 1, Activation::kNone, name + "/project",
                    residual ? kResidualGamma : 1.0));
      if (residual) {
        MCUNAS_ASSIGN_OR_RETURN(y, b.Add(x, y, name + "/add"));
      }
      x = y;
    }
  }
  MCUNAS_ASSIGN_OR_RETURN(x, b.Conv(x, RoundChannels(options.head_channels * w),
                                    1, 1, Activation::kRelu6, "head"));
  MCUNAS_ASSIGN_OR_RETURN(x, b.GlobalPool(x, "pool"));
  MCUNAS_ASSIGN_OR_RETURN(x, b.Classifier(x, options.classes, "logits"));
  return std::move(b).Finish(x);
}

std::vector<float> RandomClassImage(uint32_t seed,
                                    const RandomMbv2Options& options,
                                    int32_t cls, uint32_t sample) {
  const int32_t r = options.resolution;
  const int32_t c = options.input_channels;
  const uint32_t class_seed = MixSeed(seed, static_cast<uint32_t>(cls));
  const std::vector<float> base = RandomSmoothImage(class_seed, r, r, c);
  const uint32_t sample_seed = MixSeed(class_seed, sample);
  const std::vector<float> pattern = RandomSmoothImage(sample_seed, r, r, c);
  Rng rng(MixSeed(sample_seed, 1));
  const double a = rng.Uniform(0.5, 0.9);
  std::vector<float> image(base.size());
  for (size_t i = 0; i < image.size(); ++i) {
    image[i] = static_cast<float>(
        std::clamp(a * base[i] + (1.0 - a) * pattern[i], -1.0, 1.0));
  }
  return image;
}

std::vector<float> RandomSmoothImage(uint32_t seed, int32_t h, int32_t w,
                                     int32_t c) {
  Rng rng(seed);
  constexpr int kWaves = 4;
  struct Wave {
    double amplitude, fy, fx, phase;
  };
  std::vector<float> image(static_cast<size_t>(h) * w * c);
  for (int32_t ch = 0; ch < c; ++ch) {
    const double offset = rng.Uniform(-0.3, 0.3);
    Wave waves[kWaves];
    for (Wave& wave : waves) {
      // Up to 3 cycles across the image: structure at the scale a small
      // convnet's deeper layers see.
      wave = {rng.Uniform(0.15, 0.5), rng.Uniform(-3.0, 3.0),
              rng.Uniform(-3.0, 3.0), rng.Uniform(0.0, 2.0 * kPi)};
    }
    for (int32_t y = 0; y < h; ++y) {
      for (int32_t x = 0; x < w; ++x) {
        double v = offset + 0.05 * rng.Normal();
        for (const Wave& wave : waves) {
          v += wave.amplitude *
               std::sin(2.0 * kPi * (wave.fy * y / h + wave.fx * x / w) +
                        wave.phase);
        }
        image[(static_cast<size_t>(y) * w + x) * c + ch] =
            static_cast<float>(std::clamp(v, -1.0, 1.0));
      }
    }
  }
  return image;
}

}  // namespace mcunas::engine
