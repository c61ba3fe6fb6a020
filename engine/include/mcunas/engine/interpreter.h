// Runs a loaded Model in a caller-owned arena.
//
// The interpreter owns nothing: the Model (and its blob), the KernelSet and the
// arena belong to the caller and must outlive it. It never allocates; it works
// the same in the firmware and on the host. Not thread-safe; one Interpreter
// per arena.
//
//   Model model;
//   Status s = Model::Load(blob, size, {}, &model, &diag);
//   alignas(16) static uint8_t arena[kArenaBytes];
//   Interpreter interp(model, OptimizedKernels());
//   s = interp.Init(arena, sizeof(arena));
//   memcpy(interp.Input(0), image, interp.InputBytes(0));
//   s = interp.Invoke();
//   const int8_t* scores = interp.Output(0);
#ifndef MCUNAS_ENGINE_INTERPRETER_H_
#define MCUNAS_ENGINE_INTERPRETER_H_

#include <stdint.h>

#include "mcunas/engine/kernels.h"
#include "mcunas/engine/model.h"
#include "mcunas/engine/status.h"

namespace mcunas::engine {

class Interpreter {
 public:
  // Called after each op with the op's index; for layer dumps and per-op
  // timing. `context` is passed through unchanged.
  using OpObserver = void (*)(void* context, uint16_t op_index);

  // REQUIRES: model.loaded().
  Interpreter(const Model& model, const KernelSet& kernels);

  // REQUIRES: arena 16-byte aligned. Fails with kArenaTooSmall when
  // arena_bytes < model.arena_bytes().
  Status Init(uint8_t* arena, uint32_t arena_bytes);

  // Model input/output i as arena pointers. REQUIRES: Init() succeeded.
  int8_t* Input(uint16_t i);
  const int8_t* Output(uint16_t i) const;
  uint32_t InputBytes(uint16_t i) const;
  uint32_t OutputBytes(uint16_t i) const;
  // Any activation tensor's bytes in the arena (valid only while live).
  const int8_t* Activation(uint16_t tensor) const;

  void SetObserver(OpObserver observer, void* context) {
    observer_ = observer;
    observer_context_ = context;
  }

  // Runs every op in order. REQUIRES: Init() succeeded.
  Status Invoke();
  // Runs op `index` only (for per-op profiling). REQUIRES: Init() succeeded.
  Status InvokeOp(uint16_t index);

 private:
  const Model& model_;
  const KernelSet& kernels_;
  uint8_t* arena_ = nullptr;
  OpObserver observer_ = nullptr;
  void* observer_context_ = nullptr;
};

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_INTERPRETER_H_
