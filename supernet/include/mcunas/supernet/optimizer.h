// SGD with momentum (optionally Nesterov) and decoupled-from-BN weight
// decay, and the cosine learning-rate schedule with linear warm-up, with
// PyTorch's update rule so that hyper-parameters carry over:
//
//   g = grad + weight_decay * w          (decay only where Parameter::decay)
//   v = momentum * v + g
//   w -= lr * (nesterov ? g + momentum * v : v)
//
// Sgd owns the velocity buffers (one per parameter, in the order given).
// Not thread-safe.
#ifndef MCUNAS_SUPERNET_OPTIMIZER_H_
#define MCUNAS_SUPERNET_OPTIMIZER_H_

#include <cstdint>
#include <vector>

#include "mcunas/supernet/mbnet.h"

namespace mcunas::supernet {

struct SgdOptions {
  float momentum = 0.9f;
  bool nesterov = true;
  float weight_decay = 4e-5f;
};

class Sgd {
 public:
  explicit Sgd(SgdOptions options) : options_(options) {}

  // One update of every parameter from its grad. The first call sizes the
  // velocity buffers (zero); later calls REQUIRE the same parameters.
  void Step(const std::vector<Parameter*>& params, float lr);

  // For checkpoints: one buffer per parameter (empty before the first Step).
  std::vector<std::vector<float>>& velocity() { return velocity_; }
  const std::vector<std::vector<float>>& velocity() const { return velocity_; }
  const SgdOptions& options() const { return options_; }

 private:
  SgdOptions options_;
  std::vector<std::vector<float>> velocity_;
};

// lr(step) = base * (step + 1) / warmup during warm-up, then
// final + (base - final) * (1 + cos(pi * t)) / 2 with t the fraction of the
// remaining steps done; `final` after total_steps.
struct CosineSchedule {
  float base_lr = 0.1f;
  float final_lr = 0.0f;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;

  float At(int64_t step) const;
};

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_OPTIMIZER_H_
