#include "mcunas/supernet/data_pipeline.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace mcunas::supernet {
namespace {

// SplitMix64: a good 64-bit mix to derive independent seeds from
// (seed, epoch, position).
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

Normalization FashionMnistNormalization() { return {{0.2860f}, {0.3530f}}; }

void ResizeBilinear(const uint8_t* src, int32_t height, int32_t width,
                    int32_t channels, int32_t out_height, int32_t out_width,
                    float* out) {
  const float sy = static_cast<float>(height) / out_height;
  const float sx = static_cast<float>(width) / out_width;
  for (int32_t oy = 0; oy < out_height; ++oy) {
    const float fy = std::max(0.0f, (oy + 0.5f) * sy - 0.5f);
    const int32_t y0 = std::min(static_cast<int32_t>(fy), height - 1);
    const int32_t y1 = std::min(y0 + 1, height - 1);
    const float wy = fy - y0;
    for (int32_t ox = 0; ox < out_width; ++ox) {
      const float fx = std::max(0.0f, (ox + 0.5f) * sx - 0.5f);
      const int32_t x0 = std::min(static_cast<int32_t>(fx), width - 1);
      const int32_t x1 = std::min(x0 + 1, width - 1);
      const float wx = fx - x0;
      for (int32_t c = 0; c < channels; ++c) {
        auto at = [&](int32_t y, int32_t x) {
          return static_cast<float>(
              src[(static_cast<int64_t>(y) * width + x) * channels + c]);
        };
        const float top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * wx;
        const float bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * wx;
        out[(static_cast<int64_t>(oy) * out_width + ox) * channels + c] =
            top + (bottom - top) * wy;
      }
    }
  }
}

BatchLoader::BatchLoader(const Dataset* dataset, std::vector<int64_t> indices,
                         PipelineOptions options, uint64_t seed)
    : dataset_(dataset),
      indices_(std::move(indices)),
      options_(std::move(options)),
      seed_(seed) {}

int64_t BatchLoader::Batches(int32_t batch_size, bool train) const {
  return train ? size() / batch_size : (size() + batch_size - 1) / batch_size;
}

void BatchLoader::Prepare(int64_t index, bool augment, uint64_t sample_seed,
                          float* out) const {
  const int32_t r = options_.resolution;
  const int32_t c = dataset_->channels;
  const int64_t pixels = static_cast<int64_t>(r) * r;
  std::vector<float> resized(pixels * c);
  const uint8_t* src = dataset_->image(index);
  if (dataset_->height == r && dataset_->width == r) {
    for (int64_t i = 0; i < pixels * c; ++i) resized[i] = src[i];
  } else {
    ResizeBilinear(src, dataset_->height, dataset_->width, c, r, r,
                   resized.data());
  }
  int32_t dy = 0, dx = 0;
  bool flip = false;
  if (augment) {
    std::mt19937_64 rng(sample_seed);
    const int32_t pad = options_.augment.pad;
    if (pad > 0) {
      std::uniform_int_distribution<int32_t> offset(-pad, pad);
      dy = offset(rng);
      dx = offset(rng);
    }
    if (options_.augment.horizontal_flip) flip = (rng() & 1) != 0;
  }
  const Normalization& norm = options_.normalization;
  for (int32_t y = 0; y < r; ++y) {
    for (int32_t x = 0; x < r; ++x) {
      const int32_t sy = y + dy;
      const int32_t sx = (flip ? r - 1 - x : x) + dx;
      const bool inside = sy >= 0 && sy < r && sx >= 0 && sx < r;
      for (int32_t ch = 0; ch < c; ++ch) {
        const float v =
            inside ? resized[(static_cast<int64_t>(sy) * r + sx) * c + ch]
                   : 0.0f;
        const size_t k = norm.mean.size() == 1 ? 0 : ch;
        out[(static_cast<int64_t>(y) * r + x) * c + ch] =
            (v / 255.0f - norm.mean[k]) / norm.std[k];
      }
    }
  }
}

void BatchLoader::Fill(ThreadPool& pool, int64_t epoch, int64_t batch,
                       int32_t batch_size, bool train, Tensor* images,
                       std::vector<int32_t>* labels) const {
  const int64_t first = batch * batch_size;
  const int32_t count =
      static_cast<int32_t>(std::min<int64_t>(batch_size, size() - first));
  const int32_t r = options_.resolution;
  images->Resize({count, r, r, dataset_->channels});
  labels->resize(count);
  // The epoch's order: a seeded shuffle of positions (recomputed per batch;
  // O(size) and negligible next to a training step).
  std::vector<int64_t> order;
  if (train) {
    order.resize(size());
    for (int64_t i = 0; i < size(); ++i) order[i] = i;
    std::mt19937_64 rng(Mix(seed_ ^ Mix(static_cast<uint64_t>(epoch))));
    std::shuffle(order.begin(), order.end(), rng);
  }
  const int64_t per_image = static_cast<int64_t>(r) * r * dataset_->channels;
  pool.ParallelFor(count, [&](int64_t b0, int64_t b1, int) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t position = train ? order[first + b] : first + b;
      const int64_t index = indices_[position];
      const uint64_t sample_seed =
          Mix(seed_ ^ Mix(static_cast<uint64_t>(epoch) * 0x100000001b3ull +
                          static_cast<uint64_t>(first + b)));
      Prepare(index, train, sample_seed, images->data() + b * per_image);
      (*labels)[b] = dataset_->labels[index];
    }
  });
}

std::vector<float> BatchLoader::Image(int64_t position) const {
  const int32_t r = options_.resolution;
  std::vector<float> out(static_cast<size_t>(r) * r * dataset_->channels);
  Prepare(indices_[position], false, 0, out.data());
  return out;
}

}  // namespace mcunas::supernet
