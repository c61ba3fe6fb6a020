#include "tflite/testing/run_model.h"

#include <cstring>

#include "gtest/gtest.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/interpreter.h"

namespace mcunas::tflite::testing {

std::vector<std::vector<int8_t>> RunModel(const std::vector<uint8_t>& blob,
                                          const std::vector<int8_t>& input,
                                          const engine::KernelSet& kernels) {
  auto loaded = engine::LoadedModel::FromBytes(blob);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  if (!loaded.ok()) return {};
  const engine::Model& model = (*loaded)->model();
  std::vector<uint8_t> arena(model.arena_bytes() + 16);
  uint8_t* aligned =
      arena.data() + (16 - reinterpret_cast<uintptr_t>(arena.data()) % 16) % 16;
  engine::Interpreter interpreter(model, kernels);
  EXPECT_EQ(interpreter.Init(aligned, model.arena_bytes()),
            engine::Status::kOk);
  EXPECT_EQ(interpreter.InputBytes(0), input.size());
  std::memcpy(interpreter.Input(0), input.data(), input.size());
  EXPECT_EQ(interpreter.Invoke(), engine::Status::kOk);
  std::vector<std::vector<int8_t>> outputs;
  for (uint16_t i = 0; i < model.output_count(); ++i) {
    outputs.emplace_back(interpreter.Output(i),
                         interpreter.Output(i) + interpreter.OutputBytes(i));
  }
  return outputs;
}

}  // namespace mcunas::tflite::testing
