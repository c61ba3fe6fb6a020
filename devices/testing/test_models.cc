#include "test_models.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/host/quantizer.h"
#include "mcunas/engine/host/random_model.h"

namespace mcunas::devices::testing {

absl::StatusOr<TestModel> MakeModel(const std::string& name, uint32_t seed,
                                    const engine::RandomMbv2Options& options) {
  MCUNAS_ASSIGN_OR_RETURN(engine::FloatGraph graph,
                          engine::RandomMbv2Graph(seed, options));
  // Samples >= samples_per_class were not used to build the model.
  std::vector<std::vector<float>> calibration;
  for (int32_t i = 0; i < 4; ++i) {
    calibration.push_back(engine::RandomClassImage(
        seed, options, i % options.classes, 100 + static_cast<uint32_t>(i)));
  }
  engine::QuantizeOptions quantize;
  quantize.method = engine::CalibrationMethod::kMinMax;
  MCUNAS_ASSIGN_OR_RETURN(
      engine::QuantGraph quantized,
      engine::QuantizeFloatGraph(graph, calibration, quantize));
  TestModel model;
  model.name = name;
  MCUNAS_ASSIGN_OR_RETURN(model.blob, engine::WriteModel(quantized));
  const std::vector<float> image =
      engine::RandomClassImage(seed, options, 1 % options.classes, 200);
  model.input = engine::QuantizeValues(
      engine::ParamsOf(quantized.tensors[quantized.inputs[0]]), image);
  return model;
}

absl::StatusOr<TestModel> RandomCandidate(uint32_t index) {
  std::mt19937 rng(0x5EED0000u + index);
  const auto pick = [&](std::initializer_list<int32_t> choices) {
    std::uniform_int_distribution<size_t> d(0, choices.size() - 1);
    return *(choices.begin() + d(rng));
  };
  engine::RandomMbv2Options o;
  const bool wide = index % 8 == 7;
  o.samples_per_class = 2;
  o.input_channels = pick({1, 3});
  o.classes = pick({2, 5, 10});
  if (wide) {
    // Few MACs, many weights: ~200 KB of blob at resolution 16.
    o.resolution = 16;
    o.width_multiplier = 1.0f;
    o.stem_stride = 2;
    o.stages = {{16, 1, 1, 1}, {24, 1, 2}, {32, 1, 2}, {64, 2, 2},
                {96, 1, 1},    {160, 1, 2}};
    o.head_channels = 480;
  } else {
    o.resolution = pick({16, 24, 32, 40, 48, 64});
    const int32_t width_choice = pick({0, 1, 2, 3});
    o.width_multiplier =
        width_choice == 0 ? 0.35f : width_choice == 1 ? 0.5f
                                  : width_choice == 2 ? 0.75f : 1.0f;
    o.stem_stride = o.resolution >= 32 ? 2 : pick({1, 2});
    const int32_t stages = pick({3, 4, 5});
    const engine::Mbv2Stage all[] = {{16, 1, 1, 1}, {24, 2, 2}, {32, 2, 2},
                                     {64, 2, 2},    {96, 1, 1}};
    o.stages.assign(all, all + stages);
    for (engine::Mbv2Stage& s : o.stages) {
      if (s.depth > 1) s.depth = pick({1, 2, 3});
    }
    o.head_channels = pick({128, 256});
  }
  const std::string name = absl::StrFormat(
      "candidate %d (r%d w%.2f c%d s%d, %d stages%s)", index, o.resolution,
      o.width_multiplier, o.input_channels, o.stem_stride, o.stages.size(),
      wide ? ", wide" : "");
  return MakeModel(name, 1000 + index, o);
}

}  // namespace mcunas::devices::testing
