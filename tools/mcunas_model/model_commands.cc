#include "model_commands.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_metrics.h"
#include "mcunas/engine/interpreter.h"
#include "mcunas/tflite/tflite_export.h"
#include "mcunas/tflite/tflite_import.h"

namespace mcunas::tools {
namespace {

using engine::Interpreter;
using engine::LoadedModel;
using engine::Model;

const char* OpName(uint8_t type) {
  switch (static_cast<engine::OpType>(type)) {
    case engine::OpType::kConv2D: return "conv2d";
    case engine::OpType::kDepthwiseConv2D: return "depthwise";
    case engine::OpType::kAdd: return "add";
    case engine::OpType::kAveragePool2D: return "avgpool";
    case engine::OpType::kFullyConnected: return "fc";
    case engine::OpType::kReshape: return "reshape";
    case engine::OpType::kSoftmax: return "softmax";
    case engine::OpType::kMean: return "mean";
    case engine::OpType::kQuantize: return "quantize";
    case engine::OpType::kTranspose: return "transpose";
    case engine::OpType::kPad: return "pad";
  }
  return "?";
}

std::string ShapeString(const engine::TensorRecord& t) {
  std::vector<int> dims(t.dims, t.dims + t.rank);
  return absl::StrJoin(dims, "x");
}

std::string Bytes(uint64_t bytes) {
  return absl::StrFormat("%d B (%.1f KiB)", bytes, bytes / 1024.0);
}

const engine::KernelSet& Kernels(const KernelChoice& choice) {
  return choice.name == "reference" ? engine::ReferenceKernels()
                                    : engine::OptimizedKernels();
}

int Fail(const absl::Status& status) {
  std::cerr << "mcunas-model: " << status.message() << "\n";
  return 1;
}

absl::StatusOr<std::vector<uint8_t>> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(file)),
                              std::istreambuf_iterator<char>());
}

absl::Status WriteFile(const std::string& path,
                       const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// A model read from either format: an engine blob, or a .tflite (recognised
// by its file identifier, not its name) imported on the fly.
struct AnyModel {
  std::unique_ptr<LoadedModel> loaded;
  std::optional<tflite::ImportedModel> imported;  // .tflite only
};

absl::StatusOr<AnyModel> LoadAny(const std::string& path) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  AnyModel any;
  absl::StatusOr<std::unique_ptr<LoadedModel>> loaded;
  if (tflite::HasTfliteIdentifier(bytes->data(), bytes->size())) {
    auto imported = tflite::ImportTflite(bytes->data(), bytes->size());
    if (!imported.ok()) {
      return absl::Status(imported.status().code(),
                          absl::StrCat(path, ": ", imported.status().message()));
    }
    loaded = LoadedModel::FromBytes(imported->blob);
    any.imported = std::move(*imported);
  } else {
    loaded = LoadedModel::FromBytes(*bytes);
  }
  if (!loaded.ok()) {
    return absl::Status(loaded.status().code(),
                        absl::StrCat(path, ": ", loaded.status().message()));
  }
  any.loaded = std::move(*loaded);
  return any;
}

std::string QuantString(const engine::TensorRecord& t) {
  return absl::StrFormat("%s int8, scale %.9g, zero point %d", ShapeString(t),
                         t.scale, t.zero_point);
}

bool HasWindow(uint8_t type) {
  return type == static_cast<uint8_t>(engine::OpType::kConv2D) ||
         type == static_cast<uint8_t>(engine::OpType::kDepthwiseConv2D) ||
         type == static_cast<uint8_t>(engine::OpType::kAveragePool2D);
}

// An Interpreter with its own aligned arena.
class Runner {
 public:
  static absl::StatusOr<std::unique_ptr<Runner>> Create(
      const Model& model, const engine::KernelSet& kernels) {
    auto runner = std::unique_ptr<Runner>(new Runner(model, kernels));
    if (runner->interpreter_.Init(runner->arena(), model.arena_bytes()) !=
        engine::Status::kOk) {
      return absl::InternalError("cannot initialise the interpreter");
    }
    return runner;
  }
  Interpreter& interpreter() { return interpreter_; }

 private:
  Runner(const Model& model, const engine::KernelSet& kernels)
      : storage_(model.arena_bytes() + engine::kArenaAlignment),
        interpreter_(model, kernels) {}
  uint8_t* arena() {
    const uintptr_t p = reinterpret_cast<uintptr_t>(storage_.data());
    return storage_.data() + (engine::kArenaAlignment -
                              p % engine::kArenaAlignment) %
                                 engine::kArenaAlignment;
  }
  std::vector<uint8_t> storage_;
  Interpreter interpreter_;
};

}  // namespace

int InfoCommand(const std::string& model_path) {
  auto any = LoadAny(model_path);
  if (!any.ok()) return Fail(any.status());
  const Model& model = any->loaded->model();
  if (any->imported) {
    const tflite::ImportedModel& m = *any->imported;
    std::cout << absl::StrFormat(
        "imported from TFLite ('%s'): %d TFLite ops -> %d engine ops\n",
        m.description, m.ops.size(), m.graph.ops.size());
    for (const tflite::ImportedOp& op : m.ops) {
      if (!op.note.empty()) {
        std::cout << "  TFLite op " << op.tflite_op << " " << op.name << ": "
                  << op.note << "\n";
      }
    }
    std::cout << "\n";
  }
  std::cout << absl::StrFormat("%-4s %-10s %-14s %-14s %-8s %12s %10s %10s\n",
                               "op", "type", "input", "output", "k/s",
                               "MACs", "params", "live B");
  for (uint16_t i = 0; i < model.op_count(); ++i) {
    const engine::OpRecord& op = model.op(i);
    const engine::OpCost cost = engine::ComputeOpCost(model, i);
    std::string ks = "-";
    if (HasWindow(op.type)) ks = absl::StrCat(op.kernel_h, "/", op.stride_h);
    std::cout << absl::StrFormat(
        "%-4d %-10s %-14s %-14s %-8s %12d %10d %10d%s\n", i, OpName(op.type),
        ShapeString(model.tensor(op.inputs[0])),
        ShapeString(model.tensor(op.output)), ks, cost.macs, cost.params,
        cost.live_bytes,
        (op.flags & engine::kOpFlagInPlace) ? "  in-place" : "");
  }
  const engine::EngineMetrics m = engine::ComputeMetrics(model);
  std::cout << "\n";
  for (uint16_t i = 0; i < model.input_count(); ++i) {
    std::cout << "input " << i << "          "
              << QuantString(model.tensor(model.input(i))) << "\n";
  }
  for (uint16_t i = 0; i < model.output_count(); ++i) {
    std::cout << "output " << i << "         "
              << QuantString(model.tensor(model.output(i))) << "\n";
  }
  std::cout << absl::StrFormat("params           %d\n", m.params);
  std::cout << absl::StrFormat("MACs             %d\n", m.macs);
  std::cout << "peak SRAM        " << Bytes(m.peak_sram_bytes)
            << "  (planned arena: activations, scratch, input and output)\n";
  std::cout << "SRAM lower bound " << Bytes(m.sram_lower_bound)
            << absl::StrFormat("  (peak is %.1f%% above)\n",
                               m.sram_lower_bound == 0
                                   ? 0.0
                                   : 100.0 * (m.peak_sram_bytes -
                                              m.sram_lower_bound) /
                                         m.sram_lower_bound);
  std::cout << "flash            " << Bytes(m.flash_bytes)
            << "  (model blob; engine code not included)\n";
  std::cout << "  weights        " << Bytes(m.weight_bytes) << "\n";
  std::cout << "  op data        " << Bytes(m.op_data_bytes) << "\n";
  return 0;
}

int RunCommand(const std::string& model_path, const std::string& input_path,
               const std::string& output_path, const KernelChoice& kernels) {
  auto any = LoadAny(model_path);
  if (!any.ok()) return Fail(any.status());
  auto input = ReadFile(input_path);
  if (!input.ok()) return Fail(input.status());
  auto runner = Runner::Create(any->loaded->model(), Kernels(kernels));
  if (!runner.ok()) return Fail(runner.status());
  Interpreter& interpreter = (*runner)->interpreter();
  if (input->size() != interpreter.InputBytes(0)) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        input_path, " has ", input->size(), " bytes; the model's input needs ",
        interpreter.InputBytes(0))));
  }
  std::memcpy(interpreter.Input(0), input->data(), input->size());
  if (interpreter.Invoke() != engine::Status::kOk) {
    return Fail(absl::InternalError("inference failed"));
  }
  std::ofstream out(output_path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(interpreter.Output(0)),
            interpreter.OutputBytes(0));
  if (!out) {
    return Fail(absl::PermissionDeniedError(
        absl::StrCat("cannot write ", output_path)));
  }
  return 0;
}

int BenchCommand(const std::string& model_path, int runs, int warmup,
                 const KernelChoice& kernels) {
  auto any = LoadAny(model_path);
  if (!any.ok()) return Fail(any.status());
  auto runner = Runner::Create(any->loaded->model(), Kernels(kernels));
  if (!runner.ok()) return Fail(runner.status());
  Interpreter& interpreter = (*runner)->interpreter();
  // A fixed, non-trivial input: timing must not depend on the data, but an
  // all-zero input could hide work a real image causes.
  for (uint32_t i = 0; i < interpreter.InputBytes(0); ++i) {
    interpreter.Input(0)[i] = static_cast<int8_t>((i * 37) & 0xFF);
  }
  std::vector<double> micros;
  for (int i = 0; i < warmup + runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (interpreter.Invoke() != engine::Status::kOk) {
      return Fail(absl::InternalError("inference failed"));
    }
    const auto stop = std::chrono::steady_clock::now();
    if (i >= warmup) {
      micros.push_back(
          std::chrono::duration<double, std::micro>(stop - start).count());
    }
  }
  std::sort(micros.begin(), micros.end());
  const double median = micros[micros.size() / 2];
  const engine::EngineMetrics m = engine::ComputeMetrics(any->loaded->model());
  std::cout << absl::StrFormat(
      "kernels %s, %d runs after %d warm-up: median %.1f us, min %.1f us, "
      "max %.1f us, %.2f GMAC/s\n",
      kernels.name, runs, warmup, median, micros.front(), micros.back(),
      median > 0 ? m.macs / (median * 1e3) : 0.0);
  return 0;
}

int ImportCommand(const std::string& tflite_path,
                  const std::string& output_path) {
  auto imported = tflite::ImportTfliteFile(tflite_path);
  if (!imported.ok()) return Fail(imported.status());
  const absl::Status written = WriteFile(output_path, imported->blob);
  if (!written.ok()) return Fail(written);
  for (const tflite::ImportedOp& op : imported->ops) {
    if (!op.note.empty()) {
      std::cout << "TFLite op " << op.tflite_op << " " << op.name << ": "
                << op.note << "\n";
    }
  }
  std::cout << absl::StrFormat("%s: %d TFLite ops -> %d engine ops, %d B\n",
                               output_path, imported->ops.size(),
                               imported->graph.ops.size(),
                               imported->blob.size());
  return 0;
}

int ExportCommand(const std::string& model_path,
                  const std::string& output_path) {
  auto any = LoadAny(model_path);
  if (!any.ok()) return Fail(any.status());
  auto exported = tflite::ExportTflite(any->loaded->model());
  if (!exported.ok()) {
    return Fail(absl::Status(
        exported.status().code(),
        absl::StrCat(model_path, ": ", exported.status().message())));
  }
  const absl::Status written = WriteFile(output_path, *exported);
  if (!written.ok()) return Fail(written);
  std::cout << absl::StrFormat("%s: %d B\n", output_path, exported->size());
  return 0;
}

}  // namespace mcunas::tools
