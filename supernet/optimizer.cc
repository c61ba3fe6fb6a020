#include "mcunas/supernet/optimizer.h"

#include <algorithm>
#include <cmath>

namespace mcunas::supernet {

void Sgd::Step(const std::vector<Parameter*>& params, float lr) {
  if (velocity_.size() != params.size()) {
    velocity_.assign(params.size(), {});
  }
  const float m = options_.momentum;
  for (size_t p = 0; p < params.size(); ++p) {
    Parameter& param = *params[p];
    std::vector<float>& v = velocity_[p];
    if (v.size() != param.value.size()) v.assign(param.value.size(), 0.0f);
    const float wd = param.decay ? options_.weight_decay : 0.0f;
    float* __restrict w = param.value.data();
    const float* __restrict g = param.grad.data();
    float* __restrict vel = v.data();
    const size_t n = param.value.size();
    if (options_.nesterov) {
      for (size_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * w[i];
        vel[i] = m * vel[i] + gi;
        w[i] -= lr * (gi + m * vel[i]);
      }
    } else {
      for (size_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * w[i];
        vel[i] = m * vel[i] + gi;
        w[i] -= lr * vel[i];
      }
    }
  }
}

float CosineSchedule::At(int64_t step) const {
  if (step < warmup_steps) {
    return base_lr * static_cast<float>(step + 1) /
           static_cast<float>(warmup_steps);
  }
  const int64_t span = std::max<int64_t>(1, total_steps - warmup_steps);
  const double t =
      std::min(1.0, static_cast<double>(step - warmup_steps) / span);
  return static_cast<float>(final_lr + (base_lr - final_lr) * 0.5 *
                                           (1.0 + std::cos(M_PI * t)));
}

}  // namespace mcunas::supernet
