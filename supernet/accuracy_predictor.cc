#include "mcunas/supernet/accuracy_predictor.h"

#include <cblas.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <random>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"

namespace mcunas::supernet {
namespace {

constexpr char kMagic[8] = {'M', 'C', 'U', 'N', 'P', 'R', 'D', '1'};

// y (rows x out) = x (rows x in) * W^T + b, then ReLU when `relu`.
void Dense(const float* x, int32_t rows, int32_t in, const float* layer,
           int32_t out, bool relu, float* y) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x,
              in, layer, in, 0.0f, y, out);
  const float* bias = layer + int64_t{out} * in;
  for (int32_t r = 0; r < rows; ++r) {
    float* row = y + int64_t{r} * out;
    for (int32_t o = 0; o < out; ++o) {
      row[o] += bias[o];
      if (relu && row[o] < 0.0f) row[o] = 0.0f;
    }
  }
}

// For each fold f < folds (sample i is in fold fold_of(i)): trains on the
// samples outside it, in order, and takes the RMSE on those inside; pools
// the squared errors over all samples.
absl::StatusOr<HeldOutBlocks> HoldOutEachFold(
    const std::vector<PredictorSample>& samples,
    const PredictorOptions& options, int32_t folds,
    const std::function<int32_t(size_t)>& fold_of) {
  HeldOutBlocks result;
  double squared = 0.0;
  for (int32_t f = 0; f < folds; ++f) {
    std::vector<PredictorSample> train, held_out;
    for (size_t i = 0; i < samples.size(); ++i) {
      (fold_of(i) == f ? held_out : train).push_back(samples[i]);
    }
    MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<AccuracyPredictor> p,
                            AccuracyPredictor::Train(train, options));
    const double rmse = PredictorRmse(*p, held_out);
    result.rmse.push_back(rmse);
    squared += rmse * rmse * held_out.size();
  }
  result.pooled = std::sqrt(squared / samples.size());
  return result;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccuracyPredictor>> AccuracyPredictor::Train(
    const std::vector<PredictorSample>& samples,
    const PredictorOptions& options) {
  if (samples.empty()) {
    return absl::InvalidArgumentError("no samples to train the predictor on");
  }
  const int32_t n = static_cast<int32_t>(samples.size());
  const int32_t in = static_cast<int32_t>(samples[0].features.size());
  for (const PredictorSample& s : samples) {
    if (static_cast<int32_t>(s.features.size()) != in || in == 0) {
      return absl::InvalidArgumentError(
          "predictor samples have different or empty encodings");
    }
  }
  std::unique_ptr<AccuracyPredictor> p(new AccuracyPredictor());
  p->sizes_.push_back(in);
  for (int32_t h : options.hidden) p->sizes_.push_back(h);
  p->sizes_.push_back(1);
  const size_t layers = p->sizes_.size() - 1;
  std::mt19937_64 rng(options.seed);
  for (size_t l = 0; l < layers; ++l) {
    const int32_t fan_in = p->sizes_[l], out = p->sizes_[l + 1];
    std::vector<float> w(static_cast<size_t>(out) * fan_in + out, 0.0f);
    // He normal for the ReLU layers; the output starts near zero so the
    // first prediction is the base.
    std::normal_distribution<float> normal(
        0.0f, l + 1 < layers ? std::sqrt(2.0f / fan_in) : 0.01f);
    for (int64_t i = 0; i < int64_t{out} * fan_in; ++i) w[i] = normal(rng);
    p->layers_.push_back(std::move(w));
  }
  for (const PredictorSample& s : samples) p->base_ += s.accuracy;
  p->base_ /= n;

  std::vector<float> x(static_cast<size_t>(n) * in), target(n);
  for (int32_t i = 0; i < n; ++i) {
    std::copy(samples[i].features.begin(), samples[i].features.end(),
              x.begin() + int64_t{i} * in);
    target[i] = static_cast<float>(samples[i].accuracy - p->base_);
  }
  // Activations per layer (acts[0] = x), their gradients, Adam moments.
  std::vector<std::vector<float>> acts(layers + 1), grads(layers + 1);
  acts[0] = x;
  for (size_t l = 1; l <= layers; ++l) {
    acts[l].resize(static_cast<size_t>(n) * p->sizes_[l]);
    grads[l].resize(acts[l].size());
  }
  grads[0].resize(x.size());
  std::vector<std::vector<float>> dw(layers), m(layers), v(layers);
  for (size_t l = 0; l < layers; ++l) {
    dw[l].assign(p->layers_[l].size(), 0.0f);
    m[l].assign(p->layers_[l].size(), 0.0f);
    v[l].assign(p->layers_[l].size(), 0.0f);
  }
  const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  for (int32_t step = 1; step <= options.epochs; ++step) {
    for (size_t l = 0; l < layers; ++l) {
      Dense(acts[l].data(), n, p->sizes_[l], p->layers_[l].data(),
            p->sizes_[l + 1], l + 1 < layers, acts[l + 1].data());
    }
    // d MSE / d prediction.
    for (int32_t i = 0; i < n; ++i) {
      grads[layers][i] = 2.0f * (acts[layers][i] - target[i]) / n;
    }
    for (size_t l = layers; l-- > 0;) {
      const int32_t fan_in = p->sizes_[l], out = p->sizes_[l + 1];
      float* dz = grads[l + 1].data();
      if (l + 1 < layers) {
        // Through the ReLU of this layer's output.
        for (size_t i = 0; i < acts[l + 1].size(); ++i) {
          if (acts[l + 1][i] <= 0.0f) dz[i] = 0.0f;
        }
      }
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, fan_in, n,
                  1.0f, dz, out, acts[l].data(), fan_in, 0.0f, dw[l].data(),
                  fan_in);
      float* db = dw[l].data() + int64_t{out} * fan_in;
      std::fill(db, db + out, 0.0f);
      for (int32_t r = 0; r < n; ++r) {
        for (int32_t o = 0; o < out; ++o) db[o] += dz[int64_t{r} * out + o];
      }
      if (l > 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, fan_in, out,
                    1.0f, dz, out, p->layers_[l].data(), fan_in, 0.0f,
                    grads[l].data(), fan_in);
      }
    }
    const float c1 = 1.0f - std::pow(beta1, static_cast<float>(step));
    const float c2 = 1.0f - std::pow(beta2, static_cast<float>(step));
    for (size_t l = 0; l < layers; ++l) {
      const size_t weights =
          static_cast<size_t>(p->sizes_[l + 1]) * p->sizes_[l];
      std::vector<float>& w = p->layers_[l];
      for (size_t i = 0; i < w.size(); ++i) {
        const float g =
            dw[l][i] + (i < weights ? options.weight_decay * w[i] : 0.0f);
        m[l][i] = beta1 * m[l][i] + (1 - beta1) * g;
        v[l][i] = beta2 * v[l][i] + (1 - beta2) * g * g;
        w[i] -= options.lr * (m[l][i] / c1) / (std::sqrt(v[l][i] / c2) + eps);
      }
    }
  }
  return p;
}

std::vector<float> DefaultWeightDecayCandidates() {
  return {1e-3f, 1e-2f, 3e-2f, 0.1f, 0.3f};
}

absl::StatusOr<WeightDecayChoice> CrossValidateWeightDecay(
    const std::vector<PredictorSample>& samples,
    const PredictorOptions& options, const std::vector<float>& candidates,
    int32_t folds) {
  if (folds < 2 || static_cast<int64_t>(samples.size()) < folds) {
    return absl::InvalidArgumentError(
        absl::StrCat("cross-validation needs at least 2 folds and a sample "
                     "per fold (",
                     folds, " folds, ", samples.size(), " samples)"));
  }
  if (candidates.empty()) {
    return absl::InvalidArgumentError("no weight decays to cross-validate");
  }
  WeightDecayChoice choice;
  double best = std::numeric_limits<double>::infinity();
  for (const float weight_decay : candidates) {
    PredictorOptions o = options;
    o.weight_decay = weight_decay;
    MCUNAS_ASSIGN_OR_RETURN(
        const HeldOutBlocks held_out,
        HoldOutEachFold(samples, o, folds, [folds](size_t i) {
          return static_cast<int32_t>(i % folds);
        }));
    const double rmse = held_out.pooled;
    choice.rmse.emplace_back(weight_decay, rmse);
    if (rmse < best) {
      best = rmse;
      choice.weight_decay = weight_decay;
    }
  }
  return choice;
}

absl::StatusOr<HeldOutBlocks> RotateHeldOutBlocks(
    const std::vector<PredictorSample>& samples,
    const PredictorOptions& options, int32_t block_size) {
  if (block_size < 1 || samples.size() <= static_cast<size_t>(block_size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("held-out blocks of ", block_size, " from ",
                     samples.size(), " samples: need at least two blocks"));
  }
  const int32_t blocks =
      static_cast<int32_t>((samples.size() + block_size - 1) / block_size);
  return HoldOutEachFold(samples, options, blocks, [block_size](size_t i) {
    return static_cast<int32_t>(i / block_size);
  });
}

double AccuracyPredictor::Predict(const std::vector<float>& features) const {
  std::vector<float> a = features, b;
  const size_t layers = sizes_.size() - 1;
  for (size_t l = 0; l < layers; ++l) {
    b.assign(sizes_[l + 1], 0.0f);
    Dense(a.data(), 1, sizes_[l], layers_[l].data(), sizes_[l + 1],
          l + 1 < layers, b.data());
    a.swap(b);
  }
  return base_ + a[0];
}

absl::Status AccuracyPredictor::Save(const std::string& path) const {
  std::string body;
  auto put = [&body](const void* p, size_t n) {
    body.append(static_cast<const char*>(p), n);
  };
  const uint32_t count = static_cast<uint32_t>(sizes_.size());
  put(&count, sizeof(count));
  put(sizes_.data(), sizes_.size() * sizeof(int32_t));
  put(&base_, sizeof(base_));
  for (const std::vector<float>& l : layers_) {
    put(l.data(), l.size() * sizeof(float));
  }
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(body.data()),
            static_cast<uInt>(body.size())));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(kMagic, sizeof(kMagic));
    out.write(reinterpret_cast<const char*>(&crc), sizeof(crc));
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
    if (!out) return absl::InternalError(absl::StrCat(tmp, ": write failed"));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat(path, ": cannot rename"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AccuracyPredictor>> AccuracyPredictor::Load(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  const std::string bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  const auto bad = [&path](const std::string& what) {
    return absl::DataLossError(absl::StrCat(path, ": ", what));
  };
  if (bytes.size() < 12 || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    return bad("not an accuracy predictor file");
  }
  uint32_t crc;
  std::memcpy(&crc, bytes.data() + 8, 4);
  const char* body = bytes.data() + 12;
  const size_t size = bytes.size() - 12;
  if (crc32(0L, reinterpret_cast<const Bytef*>(body),
            static_cast<uInt>(size)) != crc) {
    return bad("CRC mismatch");
  }
  size_t at = 0;
  auto get = [&](void* p, size_t n) {
    if (size - at < n) return false;
    std::memcpy(p, body + at, n);
    at += n;
    return true;
  };
  std::unique_ptr<AccuracyPredictor> p(new AccuracyPredictor());
  uint32_t count = 0;
  if (!get(&count, 4) || count < 2 || count > 64) return bad("malformed");
  p->sizes_.resize(count);
  if (!get(p->sizes_.data(), count * sizeof(int32_t)) ||
      !get(&p->base_, sizeof(p->base_))) {
    return bad("malformed");
  }
  for (uint32_t l = 0; l + 1 < count; ++l) {
    const int64_t in_size = p->sizes_[l], out = p->sizes_[l + 1];
    if (in_size <= 0 || out <= 0 || in_size > (1 << 20) || out > (1 << 20)) {
      return bad("malformed layer sizes");
    }
    std::vector<float> w(static_cast<size_t>(out * in_size + out));
    if (!get(w.data(), w.size() * sizeof(float))) return bad("truncated");
    p->layers_.push_back(std::move(w));
  }
  if (at != size || p->sizes_.back() != 1) return bad("malformed");
  return p;
}

double PredictorRmse(const AccuracyPredictor& predictor,
                     const std::vector<PredictorSample>& samples) {
  if (samples.empty()) return 0.0;
  double sum = 0.0;
  for (const PredictorSample& s : samples) {
    const double e = predictor.Predict(s.features) - s.accuracy;
    sum += e * e;
  }
  return std::sqrt(sum / samples.size());
}

}  // namespace mcunas::supernet
