// libFuzzer target: any byte string handed to the .tflite importer must be
// rejected with a message or import into a blob the engine loads. What
// imports is then run with both kernel sets (when small enough), exported,
// and imported again, which must give the same outputs: ASan/UBSan watch
// every read, the checks below every promise.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_metrics.h"
#include "mcunas/engine/interpreter.h"
#include "mcunas/tflite/tflite_export.h"
#include "mcunas/tflite/tflite_import.h"

namespace {

using namespace mcunas;

// Keep each execution fast: person_detect (7.2 M MACs) imports, loads and
// exports in every run, but only models this small also run.
constexpr uint64_t kMaxMacsToRun = 1u << 20;
constexpr uint32_t kMaxArenaToRun = 1u << 20;

// Aborts (a crash for libFuzzer) naming the broken promise.
void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "tflite_import_fuzzer: %s\n", what);
    std::abort();
  }
}

std::vector<int8_t> Run(const engine::Model& model,
                        const engine::KernelSet& kernels) {
  std::vector<uint8_t> arena(model.arena_bytes() + engine::kArenaAlignment);
  uint8_t* aligned =
      arena.data() + (engine::kArenaAlignment -
                      reinterpret_cast<uintptr_t>(arena.data()) %
                          engine::kArenaAlignment) %
                         engine::kArenaAlignment;
  engine::Interpreter interpreter(model, kernels);
  Check(interpreter.Init(aligned, model.arena_bytes()) == engine::Status::kOk,
        "interpreter init");
  for (uint32_t i = 0; i < interpreter.InputBytes(0); ++i) {
    interpreter.Input(0)[i] = static_cast<int8_t>(i * 37);
  }
  Check(interpreter.Invoke() == engine::Status::kOk, "invoke");
  return std::vector<int8_t>(interpreter.Output(0),
                             interpreter.Output(0) + interpreter.OutputBytes(0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::StatusOr<tflite::ImportedModel> imported =
      tflite::ImportTflite(data, size);
  if (!imported.ok()) {
    Check(!imported.status().message().empty(), "an error without a message");
    return 0;
  }
  // The importer promises a blob the loader (and its plan check) accepts.
  auto loaded = engine::LoadedModel::FromBytes(imported->blob);
  if (!loaded.ok()) std::fprintf(stderr, "%s\n", loaded.status().ToString().c_str());
  Check(loaded.ok(), "the imported blob does not load");
  const engine::Model& model = (*loaded)->model();
  const engine::EngineMetrics metrics = engine::ComputeMetrics(model);
  const bool run = metrics.macs <= kMaxMacsToRun &&
                   model.arena_bytes() <= kMaxArenaToRun;
  std::vector<int8_t> reference;
  if (run) {
    reference = Run(model, engine::ReferenceKernels());
    Check(Run(model, engine::OptimizedKernels()) == reference,
          "optimised kernels differ from reference");
  }
  // Export may refuse what TFLite cannot express; what it writes must come
  // back unchanged.
  const auto exported = tflite::ExportTflite(imported->graph);
  if (!exported.ok()) return 0;
  const auto again = tflite::ImportTflite(exported->data(), exported->size());
  if (!again.ok()) std::fprintf(stderr, "%s\n", again.status().ToString().c_str());
  Check(again.ok(), "the export does not import");
  auto reloaded = engine::LoadedModel::FromBytes(again->blob);
  Check(reloaded.ok(), "the re-imported blob does not load");
  if (run) {
    Check(Run((*reloaded)->model(), engine::ReferenceKernels()) == reference,
          "export -> import changed the outputs");
  }
  return 0;
}
