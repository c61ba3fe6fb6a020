// Writes the board fixture: C++ source that defines kBoardFixture
// (engine/port/cortex_m/board_fixture.h) with a few test graphs
// (TinyMbv2Graph: stem conv, depthwise k3/k5/k7 at stride 1 and 2, 1x1
// convs, a residual add, global average pool, fully connected) as model
// blobs, three random inputs each and the outputs the host engine computes
// for them with ReferenceKernels(): the model outputs and a CRC-32 of every
// op's output (so a difference that pooling would average away still shows,
// and names the op). The test firmware runs the same inputs on the board
// with both kernel sets and must match byte for byte.
//
// Before writing, checks on the host that OptimizedKernels() gives the same
// outputs and CRCs, so a mismatch on the board points at the target, not the
// fixture. The file is rewritten only when its content changes, so firmware
// builds stay incremental.
//
// Usage: make_board_fixture OUT.cc
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/interpreter.h"
#include "mcunas/engine/kernels.h"
#include "test_graphs.h"

namespace mcunas::engine {
namespace {

constexpr uint32_t kRunsPerModel = 3;

struct Variant {
  uint32_t seed;
  testing::TinyGraphOptions graph;
  WriteOptions write;
};

// Kernel sizes 3, 5 and 7; odd and even resolutions (SAME padding at
// stride 2 is symmetric for some, not for others); channel counts that are
// and are not multiples of 4, as optimised kernels often specialise on
// those; one model with the linear planner and no in-place depthwise. All
// six together run in about a second on QEMU; the largest needs a 32 KB
// arena.
std::vector<Variant> Variants() {
  std::vector<Variant> variants;
  const auto add = [&](uint32_t seed, int32_t kernel, int32_t resolution,
                       int32_t in_channels, int32_t width, int32_t expand,
                       int32_t classes) -> Variant& {
    Variant v;
    v.seed = seed;
    v.graph.kernel = kernel;
    v.graph.resolution = resolution;
    v.graph.in_channels = in_channels;
    v.graph.width = width;
    v.graph.expand = expand;
    v.graph.classes = classes;
    variants.push_back(v);
    return variants.back();
  };
  add(1, 3, 12, 3, 8, 3, 5);
  add(2, 5, 16, 3, 6, 4, 7);
  add(3, 7, 20, 1, 12, 6, 10);
  add(4, 3, 31, 3, 16, 6, 10);
  Variant& linear = add(5, 5, 9, 2, 3, 1, 4);
  linear.write.planner = PlannerKind::kLinear;
  linear.write.in_place_depthwise = false;
  add(6, 7, 13, 4, 5, 2, 3);
  return variants;
}

std::string Name(const Variant& v) {
  const testing::TinyGraphOptions& g = v.graph;
  std::string name = absl::StrCat("tiny", v.seed, " k", g.kernel, " r",
                                  g.resolution, " c", g.in_channels, " w",
                                  g.width, " e", g.expand, " n", g.classes);
  if (v.write.planner == PlannerKind::kLinear) name += " linear";
  if (!v.write.in_place_depthwise) name += " no-in-place";
  return name;
}

struct RunResult {
  std::vector<int8_t> outputs;    // every model output, in order, back to back
  std::vector<uint32_t> op_crcs;  // CRC-32 of each op's output as it ran
};

struct ObserverContext {
  const Model* model;
  const Interpreter* interpreter;
  std::vector<uint32_t>* crcs;
};

void RecordOpCrc(void* context, uint16_t op) {
  const ObserverContext& c = *static_cast<ObserverContext*>(context);
  const uint16_t tensor = c.model->op(op).output;
  c.crcs->push_back(
      Crc32(reinterpret_cast<const uint8_t*>(c.interpreter->Activation(tensor)),
            ElementCount(c.model->tensor(tensor))));
}

// Runs `model` on `input` with `kernels` in a fresh zeroed arena.
absl::StatusOr<RunResult> Run(const Model& model, const KernelSet& kernels,
                              const std::vector<int8_t>& input) {
  std::vector<uint8_t> storage(model.arena_bytes() + 16);
  uint8_t* arena = storage.data() +
                   (16 - reinterpret_cast<uintptr_t>(storage.data()) % 16) % 16;
  Interpreter interpreter(model, kernels);
  Status status = interpreter.Init(arena, model.arena_bytes());
  if (status != Status::kOk) {
    return absl::InternalError(absl::StrCat("Init: ", StatusName(status)));
  }
  if (interpreter.InputBytes(0) != input.size()) {
    return absl::InternalError("input size does not match the model");
  }
  RunResult result;
  ObserverContext context{&model, &interpreter, &result.op_crcs};
  interpreter.SetObserver(RecordOpCrc, &context);
  std::copy(input.begin(), input.end(), interpreter.Input(0));
  status = interpreter.Invoke();
  if (status != Status::kOk) {
    return absl::InternalError(absl::StrCat("Invoke: ", StatusName(status)));
  }
  for (uint16_t i = 0; i < model.output_count(); ++i) {
    const int8_t* out = interpreter.Output(i);
    result.outputs.insert(result.outputs.end(), out,
                          out + interpreter.OutputBytes(i));
  }
  return result;
}

std::string Literal(int8_t value) { return std::to_string(value); }
std::string Literal(uint8_t value) { return std::to_string(value); }
std::string Literal(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08xu", static_cast<unsigned>(value));
  return text;
}

template <typename T>
void AppendArray(const char* type, const std::string& name,
                 const std::vector<T>& values, std::ostringstream& out) {
  const size_t per_line = sizeof(T) == 1 ? 16 : 6;
  out << type << " " << name << "[] = {";
  for (size_t i = 0; i < values.size(); ++i) {
    out << (i % per_line == 0 ? "\n    " : " ") << Literal(values[i]) << ",";
  }
  out << "\n};\n";
}

// One model's arrays and its table row.
absl::Status AppendModel(const Variant& variant, size_t index,
                         std::ostringstream& arrays,
                         std::ostringstream& table) {
  const std::string name = Name(variant);
  const QuantGraph graph = testing::TinyMbv2Graph(variant.seed, variant.graph);
  if (graph.inputs.size() != 1) {
    return absl::InvalidArgumentError(name + ": expected one model input");
  }
  MCUNAS_ASSIGN_OR_RETURN(const std::vector<uint8_t> blob,
                          WriteModel(graph, variant.write));
  MCUNAS_ASSIGN_OR_RETURN(const std::unique_ptr<LoadedModel> loaded,
                          LoadedModel::FromBytes(blob));
  MCUNAS_RETURN_IF_ERROR(ValidatePlan(loaded->model()));

  std::vector<int8_t> inputs;
  std::vector<int8_t> expected;
  std::vector<uint32_t> op_crcs;
  uint32_t output_bytes = 0;
  uint32_t input_bytes = 0;
  for (uint32_t run = 0; run < kRunsPerModel; ++run) {
    const std::vector<int8_t> input =
        testing::RandomInput(graph, 1000 * variant.seed + run);
    MCUNAS_ASSIGN_OR_RETURN(const RunResult want,
                            Run(loaded->model(), ReferenceKernels(), input));
    MCUNAS_ASSIGN_OR_RETURN(const RunResult got,
                            Run(loaded->model(), OptimizedKernels(), input));
    if (want.op_crcs.size() != loaded->model().op_count()) {
      return absl::InternalError(name + ": the observer missed ops");
    }
    if (got.outputs != want.outputs || got.op_crcs != want.op_crcs) {
      return absl::InternalError(
          absl::StrCat(name, ": host kernels '", OptimizedKernels().name,
                       "' differ from reference on input ", run));
    }
    input_bytes = static_cast<uint32_t>(input.size());
    output_bytes = static_cast<uint32_t>(want.outputs.size());
    inputs.insert(inputs.end(), input.begin(), input.end());
    expected.insert(expected.end(), want.outputs.begin(), want.outputs.end());
    op_crcs.insert(op_crcs.end(), want.op_crcs.begin(), want.op_crcs.end());
  }

  const std::string suffix = std::to_string(index);
  arrays << "// " << name << ": " << blob.size() << " B blob, "
         << loaded->model().arena_bytes() << " B arena.\n";
  AppendArray("alignas(16) const uint8_t", "kBlob" + suffix, blob, arrays);
  AppendArray("const int8_t", "kInputs" + suffix, inputs, arrays);
  AppendArray("const int8_t", "kExpected" + suffix, expected, arrays);
  AppendArray("const uint32_t", "kOpCrcs" + suffix, op_crcs, arrays);
  arrays << "\n";
  table << "    {\"" << name << "\", kBlob" << suffix << ", sizeof(kBlob"
        << suffix << "), " << kRunsPerModel << ", " << input_bytes << ", "
        << output_bytes << ", kInputs" << suffix << ", kExpected" << suffix
        << ", " << loaded->model().op_count() << ", kOpCrcs" << suffix
        << "},\n";
  return absl::OkStatus();
}

absl::StatusOr<std::string> FixtureSource() {
  const std::vector<Variant> variants = Variants();
  std::ostringstream arrays;
  std::ostringstream table;
  for (size_t i = 0; i < variants.size(); ++i) {
    MCUNAS_RETURN_IF_ERROR(AppendModel(variants[i], i, arrays, table));
  }
  std::ostringstream out;
  out << "// Generated by make_board_fixture "
         "(engine/port/board_fixture/make_board_fixture.cc);\n"
         "// do not edit. Expected outputs come from the host's reference "
         "kernels.\n"
         "#include <stdint.h>\n\n"
         "#include \"engine/port/cortex_m/board_fixture.h\"\n\n"
         "namespace mcunas::engine::port {\n"
         "namespace {\n\n"
      << arrays.str() << "const BoardFixtureModel kModels[] = {\n"
      << table.str()
      << "};\n\n"
         "}  // namespace\n\n"
         "const BoardFixture kBoardFixture = {\n"
         "    kModels, sizeof(kModels) / sizeof(kModels[0])};\n\n"
         "}  // namespace mcunas::engine::port\n";
  return out.str();
}

absl::Status WriteIfChanged(const std::string& path,
                            const std::string& content) {
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream old;
      old << in.rdbuf();
      if (old.str() == content) return absl::OkStatus();
    }
  }
  const std::string temp = path + ".tmp";
  std::ofstream out(temp, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return absl::UnavailableError("cannot write " + temp);
  // Rename so that an interrupted run never leaves a half-written fixture.
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError("cannot rename " + temp + " to " + path);
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace mcunas::engine

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_board_fixture OUT.cc\n";
    return 2;
  }
  absl::StatusOr<std::string> source = mcunas::engine::FixtureSource();
  absl::Status status = source.status();
  if (status.ok()) status = mcunas::engine::WriteIfChanged(argv[1], *source);
  if (!status.ok()) {
    std::cerr << "make_board_fixture: " << status << "\n";
    return 1;
  }
  return 0;
}
