#include "measurable_model.h"

#include <random>
#include <utility>

#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/model_writer.h"

namespace mcunas::latency {

absl::StatusOr<MeasurableModel> MakeMeasurable(const searchspace::Network& net,
                                               uint32_t seed) {
  MeasurableModel model;
  MCUNAS_ASSIGN_OR_RETURN(
      model.blob, engine::WriteModel(searchspace::BuildQuantGraph(net, seed)));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  model.inputs.resize(static_cast<size_t>(net.activations[0].Elements()));
  for (int8_t& v : model.inputs) v = static_cast<int8_t>(dist(rng));
  return model;
}

}  // namespace mcunas::latency
