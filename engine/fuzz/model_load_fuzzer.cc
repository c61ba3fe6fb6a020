// libFuzzer target: any byte string handed to the loader must be rejected
// with a status or load cleanly, and a model that loads must run without
// touching memory outside its blob and arena (ASan/UBSan watch both).
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/interpreter.h"
#include "mcunas/engine/model.h"

namespace {

// Models whose arena is larger than this are loaded but not run, to keep
// each execution fast.
constexpr uint32_t kMaxArenaToRun = 4u << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mcunas::engine;
  if (size > (16u << 20)) return 0;
  // Exactly `size` bytes behind an aligned start, so an over-read is caught.
  std::unique_ptr<uint8_t[]> storage(new uint8_t[size + kBlobAlignment]);
  const uintptr_t base = reinterpret_cast<uintptr_t>(storage.get());
  uint8_t* blob = storage.get() + (kBlobAlignment - base % kBlobAlignment) %
                                      kBlobAlignment;
  if (size > 0) std::memcpy(blob, data, size);
  // The checksum would reject almost every mutation before the structural
  // checks; those are what this target is for.
  LoadOptions options;
  options.verify_checksum = false;
  Model model;
  Diagnostic diagnostic;
  if (Model::Load(blob, static_cast<uint32_t>(size), options, &model,
                  &diagnostic) != Status::kOk) {
    return 0;
  }
  if (!ValidatePlan(model).ok() || model.arena_bytes() > kMaxArenaToRun) {
    return 0;
  }
  std::vector<uint8_t> arena(model.arena_bytes() + kArenaAlignment);
  const uintptr_t arena_base = reinterpret_cast<uintptr_t>(arena.data());
  uint8_t* aligned = arena.data() + (kArenaAlignment -
                                     arena_base % kArenaAlignment) %
                                        kArenaAlignment;
  for (const KernelSet* kernels : {&ReferenceKernels(), &OptimizedKernels()}) {
    Interpreter interpreter(model, *kernels);
    if (interpreter.Init(aligned, model.arena_bytes()) == Status::kOk) {
      (void)interpreter.Invoke();
    }
  }
  return 0;
}
