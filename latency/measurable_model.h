// A network ready to run on a device: its model blob (int8 weights from a
// seed) and random inputs from the same seed. Shared by the table builder,
// validation and the speed reference, so all of them measure models built
// the same way.
#ifndef MCUNAS_LATENCY_MEASURABLE_MODEL_H_
#define MCUNAS_LATENCY_MEASURABLE_MODEL_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/searchspace/network.h"

namespace mcunas::latency {

struct MeasurableModel {
  std::vector<uint8_t> blob;
  std::vector<int8_t> inputs;  // the model's one input, uniform in [-128, 127]
};

absl::StatusOr<MeasurableModel> MakeMeasurable(const searchspace::Network& net,
                                               uint32_t seed);

}  // namespace mcunas::latency

#endif  // MCUNAS_LATENCY_MEASURABLE_MODEL_H_
