// The on-board runner: the engine plus a command loop driven through the
// mailbox (mcunas/devices/runner_protocol.h). Model blobs are written by the
// host into the model region (flash on a real board) and run in place; the
// arena, the io buffer and the model region come from the linker script
// (runner_sections.ld and one memory map per board). The board profile's
// budgets arrive in the mailbox and are enforced here, capped at what the
// image really has, so a model that would not fit the board is refused even
// on QEMU, which has more memory than the board it stands for.
#include <stdint.h>
#include <string.h>

#include <new>

#include "mcunas/devices/runner_protocol.h"
#include "mcunas/engine/interpreter.h"
#include "mcunas/engine/kernels.h"
#include "mcunas/engine/model.h"
#include "mcunas/engine/status.h"
#include "runner.h"
#include "timer.h"

extern "C" {
extern uint8_t __model_region_start__[];
extern uint8_t __model_region_end__[];
extern uint8_t __arena_start__[];
extern uint8_t __arena_end__[];
extern uint8_t __io_start__[];
extern uint8_t __io_end__[];

__attribute__((section(".mailbox"), used))
volatile mcunas::devices::runner::Mailbox g_mcunas_mailbox;

// Exactly one instruction, so the host can resume by "returning" for it
// (pc = lr) without touching its breakpoint (see runner.h).
__attribute__((naked, noinline, used)) void McunasRunnerHalt(void) {
  __asm__ volatile("bx lr");
}
}  // extern "C"

namespace mcunas::devices::firmware {
namespace {

using engine::Interpreter;
using engine::KernelSet;
using engine::Model;
using runner::Command;
using runner::Result;

// Ops whose ticks kProfile can record (MBNet and person_detect have < 100),
// and reps whose ticks kRun records.
constexpr uint32_t kProfileCapacity = 512;
uint32_t g_profile[kProfileCapacity];

// The loaded model and its interpreter. The Interpreter holds references, so
// it is rebuilt in place (placement new: no heap) for every kLoad.
Model g_model;
alignas(Interpreter) uint8_t g_interpreter_storage[sizeof(Interpreter)];
Interpreter* g_interpreter = nullptr;

volatile runner::Mailbox& Box() { return g_mcunas_mailbox; }

uint32_t Capacity(const uint8_t* begin, const uint8_t* end) {
  return static_cast<uint32_t>(end - begin);
}

uint32_t AlignUp16(uint32_t n) { return (n + 15u) & ~15u; }

// The budget the host asked for, capped at the physical capacity.
uint32_t Budget(uint32_t requested, uint32_t capacity) {
  return requested == 0 || requested > capacity ? capacity : requested;
}

void InitMailbox(runner::Timer timer) {
  volatile runner::Mailbox& box = Box();
  box.version = runner::kProtocolVersion;
  box.mailbox_bytes = sizeof(runner::Mailbox);
  box.timer = static_cast<uint32_t>(timer);
  box.model_region = reinterpret_cast<uintptr_t>(__model_region_start__);
  box.model_region_bytes =
      Capacity(__model_region_start__, __model_region_end__);
  box.arena = reinterpret_cast<uintptr_t>(__arena_start__);
  box.arena_capacity = Capacity(__arena_start__, __arena_end__);
  box.io = reinterpret_cast<uintptr_t>(__io_start__);
  box.io_capacity = Capacity(__io_start__, __io_end__);
  box.profile = reinterpret_cast<uintptr_t>(g_profile);
  box.profile_capacity = kProfileCapacity;
  box.halt_count = 0;
  box.command = static_cast<uint32_t>(Command::kNone);
  box.result = static_cast<uint32_t>(Result::kOk);
  // Last, so a host that sees the magic sees the rest.
  box.magic = runner::kMailboxMagic;
}

Result Refuse(Result result, uint32_t needed, uint32_t limit) {
  Box().needed = needed;
  Box().limit = limit;
  return result;
}

Result Load() {
  volatile runner::Mailbox& box = Box();
  g_interpreter = nullptr;
  const uint32_t region = Capacity(__model_region_start__, __model_region_end__);
  engine::LoadOptions options;
  options.verify_checksum = (box.flags & runner::kFlagVerifyChecksum) != 0;
  engine::Diagnostic diagnostic;
  const engine::Status status = Model::Load(
      __model_region_start__, region, options, &g_model, &diagnostic);
  if (status != engine::Status::kOk) {
    box.engine_status = static_cast<uint32_t>(status);
    box.diag_what = reinterpret_cast<uintptr_t>(diagnostic.what);
    box.diag_scope = reinterpret_cast<uintptr_t>(diagnostic.scope);
    box.diag_index = diagnostic.index;
    box.diag_value = diagnostic.value;
    box.diag_limit = diagnostic.limit;
    return Result::kLoadFailed;
  }
  const uint32_t blob_bytes = g_model.header().total_bytes;
  const uint32_t flash_budget = Budget(box.flash_budget, region);
  if (blob_bytes > flash_budget) {
    return Refuse(Result::kOverFlashBudget, blob_bytes, flash_budget);
  }
  const uint32_t sram_budget =
      Budget(box.sram_budget, Capacity(__arena_start__, __arena_end__));
  if (g_model.arena_bytes() > sram_budget) {
    return Refuse(Result::kOverSramBudget, g_model.arena_bytes(), sram_budget);
  }
  const KernelSet& kernels = (box.flags & runner::kFlagReferenceKernels) != 0
                                 ? engine::ReferenceKernels()
                                 : engine::OptimizedKernels();
  Interpreter* interpreter =
      new (g_interpreter_storage) Interpreter(g_model, kernels);
  const engine::Status init = interpreter->Init(__arena_start__, sram_budget);
  if (init != engine::Status::kOk) {
    box.engine_status = static_cast<uint32_t>(init);
    return Result::kLoadFailed;
  }
  uint32_t input_bytes = 0;
  for (uint16_t i = 0; i < g_model.input_count(); ++i) {
    input_bytes += interpreter->InputBytes(i);
  }
  uint32_t output_bytes = 0;
  for (uint16_t i = 0; i < g_model.output_count(); ++i) {
    output_bytes += interpreter->OutputBytes(i);
  }
  const uint32_t io_needed = AlignUp16(input_bytes) + output_bytes;
  const uint32_t io_capacity = Capacity(__io_start__, __io_end__);
  if (io_needed > io_capacity) {
    return Refuse(Result::kIoTooLarge, io_needed, io_capacity);
  }
  box.input_bytes = input_bytes;
  box.output_bytes = output_bytes;
  box.output_offset = AlignUp16(input_bytes);
  box.op_count = g_model.op_count();
  box.arena_bytes = g_model.arena_bytes();
  box.blob_bytes = blob_bytes;
  g_interpreter = interpreter;
  return Result::kOk;
}

// Copies the staged inputs into the arena (their tensors may have been
// overwritten by the previous run).
void StageInputs() {
  const uint8_t* from = __io_start__;
  for (uint16_t i = 0; i < g_model.input_count(); ++i) {
    const uint32_t bytes = g_interpreter->InputBytes(i);
    memcpy(g_interpreter->Input(i), from, bytes);
    from += bytes;
  }
}

void CopyOutputs() {
  uint8_t* to = __io_start__ + Box().output_offset;
  for (uint16_t i = 0; i < g_model.output_count(); ++i) {
    const uint32_t bytes = g_interpreter->OutputBytes(i);
    memcpy(to, g_interpreter->Output(i), bytes);
    to += bytes;
  }
}

void ResetTicks() {
  Box().ticks_total = 0;
  Box().ticks_min = UINT64_MAX;
  Box().ticks_max = 0;
}

void AddTicks(uint64_t ticks) {
  volatile runner::Mailbox& box = Box();
  box.ticks_total = box.ticks_total + ticks;
  if (ticks < box.ticks_min) box.ticks_min = ticks;
  if (ticks > box.ticks_max) box.ticks_max = ticks;
}

Result Run() {
  if (g_interpreter == nullptr) return Result::kNoModel;
  const uint32_t reps = Box().reps;
  if (reps == 0) return Result::kBadArgument;
  ResetTicks();
  for (uint32_t rep = 0; rep < reps; ++rep) {
    StageInputs();
    // Re-armed for every rep: each then starts at the same phase of the
    // tick, so emulated counts repeat exactly.
    TimerArm();
    const uint64_t start = TimerNow();
    const engine::Status status = g_interpreter->Invoke();
    const uint64_t end = TimerNow();
    if (status != engine::Status::kOk) {
      Box().engine_status = static_cast<uint32_t>(status);
      return Result::kInvokeFailed;
    }
    const uint64_t ticks = end - start;
    AddTicks(ticks);
    if (rep < kProfileCapacity) {
      g_profile[rep] = ticks > UINT32_MAX ? UINT32_MAX
                                          : static_cast<uint32_t>(ticks);
    }
  }
  CopyOutputs();
  return Result::kOk;
}

struct ProfileState {
  uint64_t last;
};

void RecordOp(void* context, uint16_t op) {
  ProfileState& state = *static_cast<ProfileState*>(context);
  const uint64_t now = TimerNow();
  g_profile[op] = static_cast<uint32_t>(now - state.last);
  // The observer's own cost is charged to the next op; it is a few dozen
  // instructions against thousands per op.
  state.last = TimerNow();
}

Result Profile() {
  if (g_interpreter == nullptr) return Result::kNoModel;
  if (g_model.op_count() > kProfileCapacity) {
    return Refuse(Result::kBadArgument, g_model.op_count(), kProfileCapacity);
  }
  ResetTicks();
  StageInputs();
  ProfileState state;
  g_interpreter->SetObserver(RecordOp, &state);
  TimerArm();
  const uint64_t start = TimerNow();
  state.last = start;
  const engine::Status status = g_interpreter->Invoke();
  const uint64_t end = TimerNow();
  g_interpreter->SetObserver(nullptr, nullptr);
  if (status != engine::Status::kOk) {
    Box().engine_status = static_cast<uint32_t>(status);
    return Result::kInvokeFailed;
  }
  AddTicks(end - start);
  CopyOutputs();
  return Result::kOk;
}

// Exactly two instructions (SUBS, BNE) per iteration.
__attribute__((noinline)) void SpinLoop(uint32_t iterations) {
  __asm__ volatile(
      "1:\n\t"
      "subs %0, %0, #1\n\t"
      "bne 1b\n\t"
      : "+r"(iterations)::"cc");
}

Result Calibrate() {
  const uint32_t reps = Box().reps;
  if (reps == 0) return Result::kBadArgument;
  ResetTicks();
  TimerArm();
  const uint64_t start = TimerNow();
  SpinLoop(reps);
  AddTicks(TimerNow() - start);
  return Result::kOk;
}

Result Execute(Command command) {
  switch (command) {
    case Command::kLoad:
      return Load();
    case Command::kRun:
      return Run();
    case Command::kProfile:
      return Profile();
    case Command::kCalibrate:
      return Calibrate();
    case Command::kHang:
      for (;;) {
        __asm__ volatile("" ::: "memory");
      }
    case Command::kFault:
      __asm__ volatile("udf #0");
      return Result::kOk;
    case Command::kNone:
      return Result::kOk;
  }
  return Result::kUnknownCommand;
}

}  // namespace
}  // namespace mcunas::devices::firmware

extern "C" void McunasRunnerFault(const uint32_t* frame, uint32_t exception) {
  using mcunas::devices::runner::Result;
  volatile mcunas::devices::runner::Mailbox& box = g_mcunas_mailbox;
  box.fault_ipsr = exception & 0x1FFu;
  box.fault_lr = frame[5];
  box.fault_pc = frame[6];
  box.fault_xpsr = frame[7];
  box.fault_cfsr = *reinterpret_cast<volatile uint32_t*>(0xE000ED28u);
  box.fault_hfsr = *reinterpret_cast<volatile uint32_t*>(0xE000ED2Cu);
  box.fault_bfar = *reinterpret_cast<volatile uint32_t*>(0xE000ED38u);
  box.result = static_cast<uint32_t>(Result::kFault);
  for (;;) {
    box.halt_count = box.halt_count + 1;
    McunasRunnerHalt();
  }
}

int main() {
  using namespace mcunas::devices;
  firmware::InitMailbox(firmware::TimerInit());
  volatile runner::Mailbox& box = g_mcunas_mailbox;
  for (;;) {
    box.halt_count = box.halt_count + 1;
    McunasRunnerHalt();
    const auto command = static_cast<runner::Command>(box.command);
    box.engine_status = 0;
    box.needed = 0;
    box.limit = 0;
    box.result = static_cast<uint32_t>(firmware::Execute(command));
    box.command = static_cast<uint32_t>(runner::Command::kNone);
  }
}
