// The board catalogue: every board mcunas can measure on, as data
// (devices/boards/boards.txt), one BoardProfile each — its core, clock,
// the SRAM and flash budgets a model must fit, how to reach it (in process,
// a QEMU machine, or an OpenOCD config and adapter serial) and what its
// latency numbers mean.
//
// File format: `[name]` starts a board; `key = value` lines follow; `#`
// starts a comment line. Sizes take B, KiB or MiB ("320 KiB"). Unknown keys
// and missing required keys are errors naming the file, line and board.
//
// Immutable after loading; thread-safe to share.
#ifndef MCUNAS_DEVICES_BOARD_CATALOG_H_
#define MCUNAS_DEVICES_BOARD_CATALOG_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace mcunas::devices {

enum class BoardKind {
  kHost,     // the engine in this process
  kQemu,     // an emulated Cortex-M board (qemu-system-arm)
  kOpenOcd,  // a real board behind a debug probe, driven through OpenOCD
};

enum class LatencyUnit {
  kNanoseconds,           // wall-clock time on the host
  kEmulatedInstructions,  // QEMU -icount: deterministic, not cycles
  kCycles,                // core clock cycles (DWT->CYCCNT or SysTick)
};

// "ns (wall clock)", "emulated instructions", "cycles".
absl::string_view LatencyUnitName(LatencyUnit unit);
absl::string_view BoardKindName(BoardKind kind);

struct BoardProfile {
  std::string name;
  BoardKind kind = BoardKind::kHost;
  std::string core;   // cortex-m4, cortex-m7, cortex-m33 or host
  uint64_t clock_hz = 0;  // core (and SysTick) clock; 0 for the host
  // What a model may use: arena bytes (activations, scratch, I/O: the
  // engine's planned peak) and blob bytes (weights, per-op data, tables).
  uint32_t sram_budget = 0;
  uint32_t flash_budget = 0;
  LatencyUnit latency_unit = LatencyUnit::kNanoseconds;
  std::string description;

  // kQemu and kOpenOcd: the runner firmware's ELF file name, looked up in
  // the firmware directories (DeviceOptions::firmware_dirs).
  std::string firmware;
  // kQemu.
  std::string qemu_machine;  // e.g. mps2-an386
  int32_t icount_shift = 6;  // -icount shift=N: 2^N ns per instruction
  // kOpenOcd: config files for `openocd -f` (in order) and the probe's
  // serial number (may be left to the host running the board).
  std::vector<std::string> openocd_configs;
  std::string adapter_serial;
};

class BoardCatalog {
 public:
  // Parses catalogue text; `source` names it in errors.
  static absl::StatusOr<BoardCatalog> Parse(absl::string_view text,
                                            absl::string_view source);
  static absl::StatusOr<BoardCatalog> Load(const std::string& path);

  const std::vector<BoardProfile>& boards() const { return boards_; }
  // NotFound naming the boards there are.
  absl::StatusOr<BoardProfile> Find(absl::string_view name) const;

 private:
  std::vector<BoardProfile> boards_;
};

// The catalogue in the source tree (devices/boards/boards.txt), or
// $MCUNAS_BOARDS when set.
std::string DefaultCatalogPath();

// Parses "320 KiB", "1 MiB", "4096", "4096 B". InvalidArgument otherwise.
absl::StatusOr<uint32_t> ParseByteSize(absl::string_view text);

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_BOARD_CATALOG_H_
