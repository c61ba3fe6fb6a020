// Test-only. Builds small .tflite files tensor by tensor and op by op,
// including what the exporter never writes: unsupported ops, float model
// edges, PADs in front of convolutions, broken indices and enums. Used by
// the tflite tests and the fuzz seed writer. Not thread-safe.
#ifndef MCUNAS_TFLITE_TESTING_TFLITE_BUILDER_H_
#define MCUNAS_TFLITE_TESTING_TFLITE_BUILDER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tflite/schema/tflite_subset_generated.h"

namespace mcunas::tflite::testing {

class TfliteBuilder {
 public:
  using Options = std::function<flatbuffers::Offset<void>(
      flatbuffers::FlatBufferBuilder&)>;

  // Each returns the new tensor's index.
  int32_t Activation(std::vector<int32_t> shape, float scale,
                     int64_t zero_point, const std::string& name = "");
  int32_t Float(std::vector<int32_t> shape, const std::string& name = "");
  // int8 weights; one scale (per tensor) or one per `quantized_dimension`
  // entry, zero points 0.
  int32_t Weights(std::vector<int32_t> shape, std::vector<int8_t> values,
                  std::vector<float> scales, int32_t quantized_dimension);
  int32_t Int32(std::vector<int32_t> shape, std::vector<int32_t> values);
  // Any tensor, for malformed files.
  int32_t Raw(std::vector<int32_t> shape, fb::TensorType type,
              std::vector<uint8_t> data, std::vector<float> scales,
              std::vector<int64_t> zero_points,
              int32_t quantized_dimension = 0);

  void Op(fb::BuiltinOperator code, std::vector<int32_t> inputs,
          std::vector<int32_t> outputs,
          fb::BuiltinOptions options_type = fb::BuiltinOptions::NONE,
          Options options = nullptr);

  std::vector<uint8_t> Build(const std::vector<int32_t>& inputs,
                             const std::vector<int32_t>& outputs);

 private:
  struct Tensor {
    std::string name;
    fb::TensorType type;
    std::vector<int32_t> shape;
    std::vector<uint8_t> data;
    std::vector<float> scales;
    std::vector<int64_t> zero_points;
    int32_t quantized_dimension;
  };
  struct OpDef {
    fb::BuiltinOperator code;
    std::vector<int32_t> inputs, outputs;
    fb::BuiltinOptions options_type;
    Options options;
  };
  std::vector<Tensor> tensors_;
  std::vector<OpDef> ops_;
};

}  // namespace mcunas::tflite::testing

#endif  // MCUNAS_TFLITE_TESTING_TFLITE_BUILDER_H_
