// The mailbox protocol between the on-board runner firmware
// (devices/firmware/) and the host that drives it over the GDB remote
// protocol. Plain data only, compiled into both: the firmware (bare-metal
// Cortex-M) and the host library (x86-64), so every field is sized and the
// layout is checked by static_asserts on both sides.
//
// The firmware keeps one Mailbox in its own RAM section (".mailbox", never
// touched by the startup code; the host finds it by the ELF symbol
// kMailboxSymbol). A session goes:
//
//   1. the host loads and starts the firmware; the firmware fills in the
//      layout fields, then calls the halt function (kHaltSymbol), where the
//      host has a breakpoint;
//   2. for each command the host writes the request fields (and any data:
//      the model blob into the model region, inputs into the io buffer),
//      resumes the core, and waits for it to reach the halt function again;
//   3. the firmware has written `result` and the reply fields; outputs are
//      in the io buffer at `output_offset`.
//
// On QEMU the host stops the core with watchpoints instead of the halt
// breakpoint (see RunnerSession's StopMode), which relies on this order:
// after a command the firmware writes the reply fields (`result` and the
// rest) and `command` = kNone, then writes `halt_count`, then calls the halt
// function, and reads `command` before anything else of the next request;
// the fault handler writes its fields and `result`, then increments
// `halt_count` and calls the halt function in a loop, without reading
// `command`.
//
// Nothing here is owned or synchronised: the core is halted whenever the host
// touches the mailbox.
#ifndef MCUNAS_DEVICES_RUNNER_PROTOCOL_H_
#define MCUNAS_DEVICES_RUNNER_PROTOCOL_H_

#include <stddef.h>
#include <stdint.h>

namespace mcunas::devices::runner {

inline constexpr uint32_t kMailboxMagic = 0x4E52434Du;  // bytes "MCRN"
inline constexpr uint32_t kProtocolVersion = 1;

// Symbols the host looks up in the firmware ELF.
inline constexpr const char kMailboxSymbol[] = "g_mcunas_mailbox";
inline constexpr const char kHaltSymbol[] = "McunasRunnerHalt";

enum class Command : uint32_t {
  kNone = 0,
  // Validates the blob in the model region (Model::Load), checks the
  // budgets, and initialises an interpreter over the arena.
  kLoad = 1,
  // Runs the loaded model `reps` times, each time on the inputs staged at the
  // start of the io buffer; times each run (the ticks of rep i go to
  // profile[i] while i < profile_capacity, saturated at 2^32 - 1); leaves
  // the outputs at `output_offset`.
  kRun = 2,
  // One run that also records each op's ticks into the profile array.
  kProfile = 3,
  // Spins a loop of exactly 2 instructions per iteration, `reps` times, and
  // times it: calibrates ticks per instruction on emulated boards.
  kCalibrate = 4,
  // Test hook: never returns (a model that never finishes).
  kHang = 5,
  // Test hook: executes an undefined instruction (a firmware crash).
  kFault = 6,
};

enum class Result : uint32_t {
  kOk = 0,
  kUnknownCommand = 1,
  kLoadFailed = 2,       // engine_status and diag_* say why
  kOverSramBudget = 3,   // needed vs limit: arena bytes
  kOverFlashBudget = 4,  // needed vs limit: blob bytes
  kNoModel = 5,          // kRun/kProfile before a successful kLoad
  kIoTooLarge = 6,       // needed vs limit: io bytes
  kInvokeFailed = 7,     // engine_status says why
  kFault = 8,            // fault_* fields
  kBadArgument = 9,      // e.g. reps == 0, too many ops to profile
};

// What the firmware's tick counts mean.
enum class Timer : uint32_t {
  kNone = 0,
  kDwtCycles = 1,  // DWT->CYCCNT: core clock cycles
  kSysTick = 2,    // SysTick on the core clock (on QEMU with -icount it
                   // counts emulated instructions; see HIL.md)
};

// Request flags.
inline constexpr uint32_t kFlagVerifyChecksum = 1u << 0;    // kLoad
inline constexpr uint32_t kFlagReferenceKernels = 1u << 1;  // kLoad

struct Mailbox {
  // Set by the firmware at boot; constant afterwards.
  uint32_t magic;  // kMailboxMagic
  uint32_t version;
  uint32_t mailbox_bytes;  // sizeof(Mailbox)
  uint32_t timer;          // Timer
  uint32_t model_region;   // address of the flash region for model blobs
  uint32_t model_region_bytes;
  uint32_t arena;  // address of the arena (16-byte aligned)
  uint32_t arena_capacity;
  uint32_t io;  // address of the io buffer: inputs, then outputs
  uint32_t io_capacity;
  uint32_t profile;           // address of uint32_t[profile_capacity]:
  uint32_t profile_capacity;  // ticks per op (kProfile) or per rep (kRun)
  uint32_t halt_count;        // times the firmware reached the halt point
  uint32_t reserved0[3];

  // Written by the host before a command.
  uint32_t command;  // Command
  uint32_t flags;    // kFlag*
  uint32_t reps;     // kRun, kCalibrate
  // Enforced budgets (the board profile's); the firmware also caps them at
  // the physical capacities above. 0 means "the capacity".
  uint32_t sram_budget;   // bytes of arena a model may plan
  uint32_t flash_budget;  // bytes of blob
  uint32_t reserved1[3];

  // Written by the firmware for each command.
  uint32_t result;         // Result
  uint32_t engine_status;  // mcunas::engine::Status
  uint32_t needed;         // budget refusals: what the model needs
  uint32_t limit;          // and what the board allows
  // kLoadFailed: the engine Diagnostic. `what` and `scope` are addresses of
  // NUL-terminated strings in the firmware image.
  uint32_t diag_what;
  uint32_t diag_scope;
  int32_t diag_index;
  uint32_t diag_value;
  uint32_t diag_limit;
  // The loaded model (after kLoad).
  uint32_t input_bytes;    // all inputs, back to back
  uint32_t output_bytes;   // all outputs, back to back
  uint32_t output_offset;  // of the outputs in the io buffer
  uint32_t op_count;
  uint32_t arena_bytes;
  uint32_t blob_bytes;
  uint32_t reserved2;
  // kRun / kProfile / kCalibrate: ticks (see `timer`) summed over the reps,
  // and the fastest and slowest rep.
  uint64_t ticks_total;
  uint64_t ticks_min;
  uint64_t ticks_max;
  // kFault: the exception frame and fault status registers.
  uint32_t fault_ipsr;  // exception number
  uint32_t fault_pc;
  uint32_t fault_lr;
  uint32_t fault_xpsr;
  uint32_t fault_cfsr;
  uint32_t fault_hfsr;
  uint32_t fault_bfar;
  uint32_t reserved3;
};

static_assert(sizeof(Mailbox) == 216, "Mailbox layout");
static_assert(offsetof(Mailbox, command) == 64, "Mailbox layout");
static_assert(offsetof(Mailbox, result) == 96, "Mailbox layout");
static_assert(offsetof(Mailbox, ticks_total) == 160, "Mailbox layout");
static_assert(offsetof(Mailbox, fault_ipsr) == 184, "Mailbox layout");

}  // namespace mcunas::devices::runner

#endif  // MCUNAS_DEVICES_RUNNER_PROTOCOL_H_
