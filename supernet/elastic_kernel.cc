#include "elastic_kernel.h"

#include <algorithm>

namespace mcunas::supernet::internal {
namespace {

// Centre k x k taps of a [from][from][stride] kernel, channels [0, channels).
void CentreCrop(const float* w, int32_t from, int32_t stride, int32_t k,
                int32_t channels, float* out) {
  const int32_t off = (from - k) / 2;
  for (int32_t y = 0; y < k; ++y) {
    for (int32_t x = 0; x < k; ++x) {
      const float* src = w + (int64_t{y + off} * from + x + off) * stride;
      std::copy(src, src + channels, out + (int64_t{y} * k + x) * channels);
    }
  }
}

}  // namespace

void ElasticKernelForward(const float* full, int32_t full_channels,
                          int32_t channels, const std::vector<int32_t>& kernels,
                          const std::vector<const float*>& matrices,
                          ElasticKernelCache* cache, float* out) {
  const size_t steps = kernels.size() - 1;
  cache->crops.resize(steps);
  if (steps == 0) {
    CentreCrop(full, kernels[0], full_channels, kernels[0], channels, out);
    return;
  }
  const float* cur = full;
  int32_t cur_k = kernels[0];
  int32_t cur_stride = full_channels;
  for (size_t j = 0; j < steps; ++j) {
    const int32_t k = kernels[j + 1];
    const int32_t taps = k * k;
    std::vector<float>& crop = cache->crops[j];
    crop.resize(static_cast<size_t>(taps) * channels);
    CentreCrop(cur, cur_k, cur_stride, k, channels, crop.data());
    // The last transform writes the output; earlier ones a scratch level
    // that the next crop reads.
    float* dst = out;
    if (j + 1 < steps) {
      cache->scratch.resize(static_cast<size_t>(taps) * channels);
      dst = cache->scratch.data();
    }
    const float* m = matrices[j];
    for (int32_t q = 0; q < taps; ++q) {
      float* row = dst + int64_t{q} * channels;
      std::fill(row, row + channels, 0.0f);
      for (int32_t p = 0; p < taps; ++p) {
        const float t = m[q * taps + p];
        const float* src = crop.data() + int64_t{p} * channels;
        for (int32_t c = 0; c < channels; ++c) row[c] += t * src[c];
      }
    }
    cur = dst;
    cur_k = k;
    cur_stride = channels;
  }
}

void ElasticKernelBackward(const float* dout, int32_t full_channels,
                           int32_t channels,
                           const std::vector<int32_t>& kernels,
                           const std::vector<const float*>& matrices,
                           const ElasticKernelCache& cache, float* dfull,
                           const std::vector<float*>& dmatrices) {
  const size_t steps = kernels.size() - 1;
  // d of the current level, [k][k][channels].
  std::vector<float> d(dout, dout + static_cast<size_t>(kernels.back()) *
                                        kernels.back() * channels);
  for (size_t j = steps; j-- > 0;) {
    const int32_t k = kernels[j + 1];
    const int32_t taps = k * k;
    const float* crop = cache.crops[j].data();
    const float* m = matrices[j];
    float* dm = dmatrices[j];
    // dT[q][p] = sum_c d[q][c] * crop[p][c]; dcrop[p][c] = sum_q T[q][p]
    // d[q][c].
    std::vector<float> dcrop(static_cast<size_t>(taps) * channels, 0.0f);
    for (int32_t q = 0; q < taps; ++q) {
      const float* dq = d.data() + int64_t{q} * channels;
      for (int32_t p = 0; p < taps; ++p) {
        const float* cp = crop + int64_t{p} * channels;
        double s = 0.0;
        for (int32_t c = 0; c < channels; ++c) s += double{dq[c]} * cp[c];
        dm[q * taps + p] += static_cast<float>(s);
        const float t = m[q * taps + p];
        float* dp = dcrop.data() + int64_t{p} * channels;
        for (int32_t c = 0; c < channels; ++c) dp[c] += t * dq[c];
      }
    }
    // The crop's gradient lands in the centre of the previous level.
    const int32_t from = kernels[j];
    const int32_t off = (from - k) / 2;
    if (j == 0) {
      for (int32_t y = 0; y < k; ++y) {
        for (int32_t x = 0; x < k; ++x) {
          float* dst =
              dfull + (int64_t{y + off} * from + x + off) * full_channels;
          const float* src = dcrop.data() + (int64_t{y} * k + x) * channels;
          for (int32_t c = 0; c < channels; ++c) dst[c] += src[c];
        }
      }
      return;
    }
    std::vector<float> prev(static_cast<size_t>(from) * from * channels, 0.0f);
    for (int32_t y = 0; y < k; ++y) {
      for (int32_t x = 0; x < k; ++x) {
        std::copy(dcrop.data() + (int64_t{y} * k + x) * channels,
                  dcrop.data() + (int64_t{y} * k + x + 1) * channels,
                  prev.data() + (int64_t{y + off} * from + x + off) * channels);
      }
    }
    d = std::move(prev);
  }
  // No transform: the active kernel is the full one.
  for (int64_t t = 0; t < int64_t{kernels[0]} * kernels[0]; ++t) {
    for (int32_t c = 0; c < channels; ++c) {
      dfull[t * full_channels + c] += d[t * channels + c];
    }
  }
}

}  // namespace mcunas::supernet::internal
