// Host only, private to engine/host. When each arena tensor of a loaded model
// must hold its value: from the op that writes it (0 for model inputs) to the
// last op that reads it (the last op for model outputs). Shared by plan
// validation and metrics so that both read the plan the same way.
#ifndef MCUNAS_ENGINE_HOST_LIFETIMES_H_
#define MCUNAS_ENGINE_HOST_LIFETIMES_H_

#include <cstdint>
#include <vector>

#include "mcunas/engine/model.h"

namespace mcunas::engine {

struct Lifetime {
  int32_t first = -1;  // -1: not an arena tensor, or never used
  int32_t last = -1;
  bool used() const { return last >= 0; }
  bool LiveAt(int32_t op) const { return first <= op && op <= last; }
};

// One entry per tensor of `model`. REQUIRES: model.loaded().
std::vector<Lifetime> ArenaLifetimes(const Model& model);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_HOST_LIFETIMES_H_
