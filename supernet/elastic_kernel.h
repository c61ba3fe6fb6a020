// Private. Elastic depthwise kernels, as in Once-for-All: the weights of a
// smaller kernel are the centre crop of the next larger kernel's weights
// passed through a learned linear transform,
//
//   W_k[q][c] = sum_p T_k[q][p] * centre_k(W_K')[p][c]
//
// with p, q running over the k*k taps (row-major) and one k^2 x k^2 matrix
// T_k per layer and kernel size, shared by all channels (OFA's 25x25 for
// 7 -> 5 and 9x9 for 5 -> 3). Sizes chain: 7 -> 5 -> 3 crops the 5x5 that
// the first transform produced, so every size has its own weights yet all
// share the 7x7 tensor.
//
// Weights are [k][k][C] (the depthwise layout of ops.h); the full tensor may
// have more channels than are used (elastic expand ratio keeps the first
// `channels`). Stateless functions; the cache belongs to the caller.
// Cost: O(sum_j k_j^4 * channels) per call, negligible next to the conv.
#ifndef MCUNAS_SUPERNET_ELASTIC_KERNEL_H_
#define MCUNAS_SUPERNET_ELASTIC_KERNEL_H_

#include <cstdint>
#include <vector>

namespace mcunas::supernet::internal {

// What the forward keeps for the backward: the cropped input of every
// transform of the chain, [k_j+1][k_j+1][channels].
struct ElasticKernelCache {
  std::vector<std::vector<float>> crops;
  std::vector<float> scratch;
};

// `kernels` is the chain, descending, starting at the full kernel:
// {7} (no transform), {7, 5} or {7, 5, 3}; matrices[j] is the
// (kernels[j+1]^2)^2 matrix that makes kernels[j+1] from kernels[j].
// full: [K][K][full_channels]; out: [k][k][channels] with k the last of the
// chain and channels <= full_channels.
void ElasticKernelForward(const float* full, int32_t full_channels,
                          int32_t channels, const std::vector<int32_t>& kernels,
                          const std::vector<const float*>& matrices,
                          ElasticKernelCache* cache, float* out);

// From dout [k][k][channels] of the last forward: ADDS the gradient into
// dfull ([K][K][full_channels], channels >= `channels` untouched) and into
// each dmatrices[j].
void ElasticKernelBackward(const float* dout, int32_t full_channels,
                           int32_t channels,
                           const std::vector<int32_t>& kernels,
                           const std::vector<const float*>& matrices,
                           const ElasticKernelCache& cache, float* dfull,
                           const std::vector<float*>& dmatrices);

}  // namespace mcunas::supernet::internal

#endif  // MCUNAS_SUPERNET_ELASTIC_KERNEL_H_
