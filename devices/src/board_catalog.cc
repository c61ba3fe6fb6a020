#include "mcunas/devices/board_catalog.h"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "mcunas/common/status_macros.h"

#ifndef MCUNAS_DEFAULT_BOARDS
#define MCUNAS_DEFAULT_BOARDS "devices/boards/boards.txt"
#endif

namespace mcunas::devices {
namespace {

absl::StatusOr<BoardKind> ParseKind(absl::string_view value) {
  if (value == "host") return BoardKind::kHost;
  if (value == "qemu") return BoardKind::kQemu;
  if (value == "openocd") return BoardKind::kOpenOcd;
  return absl::InvalidArgumentError(
      absl::StrCat("kind '", value, "' is not host, qemu or openocd"));
}

absl::StatusOr<LatencyUnit> ParseUnit(absl::string_view value) {
  if (value == "ns") return LatencyUnit::kNanoseconds;
  if (value == "emulated instructions") {
    return LatencyUnit::kEmulatedInstructions;
  }
  if (value == "cycles") return LatencyUnit::kCycles;
  return absl::InvalidArgumentError(absl::StrCat(
      "latency_unit '", value,
      "' is not ns, emulated instructions or cycles"));
}

absl::Status SetField(BoardProfile& board, absl::string_view key,
                      absl::string_view value) {
  if (key == "kind") {
    MCUNAS_ASSIGN_OR_RETURN(board.kind, ParseKind(value));
  } else if (key == "core") {
    if (value != "cortex-m4" && value != "cortex-m7" && value != "cortex-m33" &&
        value != "host") {
      return absl::InvalidArgumentError(absl::StrCat(
          "core '", value, "' is not cortex-m4, cortex-m7, cortex-m33 or host"));
    }
    board.core = std::string(value);
  } else if (key == "clock_hz") {
    if (!absl::SimpleAtoi(value, &board.clock_hz)) {
      return absl::InvalidArgumentError(
          absl::StrCat("clock_hz '", value, "' is not a number"));
    }
  } else if (key == "sram_budget") {
    MCUNAS_ASSIGN_OR_RETURN(board.sram_budget, ParseByteSize(value));
  } else if (key == "flash_budget") {
    MCUNAS_ASSIGN_OR_RETURN(board.flash_budget, ParseByteSize(value));
  } else if (key == "latency_unit") {
    MCUNAS_ASSIGN_OR_RETURN(board.latency_unit, ParseUnit(value));
  } else if (key == "description") {
    board.description = std::string(value);
  } else if (key == "firmware") {
    board.firmware = std::string(value);
  } else if (key == "qemu_machine") {
    board.qemu_machine = std::string(value);
  } else if (key == "icount_shift") {
    if (!absl::SimpleAtoi(value, &board.icount_shift) ||
        board.icount_shift < 0 || board.icount_shift > 10) {
      return absl::InvalidArgumentError(
          absl::StrCat("icount_shift '", value, "' is not in 0..10"));
    }
  } else if (key == "openocd_config") {
    board.openocd_configs = absl::StrSplit(value, ' ', absl::SkipEmpty());
  } else if (key == "adapter_serial") {
    board.adapter_serial = std::string(value);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown key '", key, "'"));
  }
  return absl::OkStatus();
}

// What each kind needs; errors name the missing key.
absl::Status CheckComplete(const BoardProfile& board) {
  std::vector<std::string> missing;
  if (board.core.empty()) missing.push_back("core");
  if (board.sram_budget == 0) missing.push_back("sram_budget");
  if (board.flash_budget == 0) missing.push_back("flash_budget");
  if (board.kind != BoardKind::kHost) {
    if (board.clock_hz == 0) missing.push_back("clock_hz");
    if (board.firmware.empty()) missing.push_back("firmware");
  }
  if (board.kind == BoardKind::kQemu && board.qemu_machine.empty()) {
    missing.push_back("qemu_machine");
  }
  if (board.kind == BoardKind::kOpenOcd && board.openocd_configs.empty()) {
    missing.push_back("openocd_config");
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing ", absl::StrJoin(missing, ", ")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view LatencyUnitName(LatencyUnit unit) {
  switch (unit) {
    case LatencyUnit::kNanoseconds:
      return "ns (wall clock)";
    case LatencyUnit::kEmulatedInstructions:
      return "emulated instructions";
    case LatencyUnit::kCycles:
      return "cycles";
  }
  return "unknown unit";
}

absl::string_view BoardKindName(BoardKind kind) {
  switch (kind) {
    case BoardKind::kHost:
      return "host";
    case BoardKind::kQemu:
      return "qemu";
    case BoardKind::kOpenOcd:
      return "openocd";
  }
  return "unknown";
}

absl::StatusOr<uint32_t> ParseByteSize(absl::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  uint64_t scale = 1;
  if (absl::ConsumeSuffix(&t, "MiB")) {
    scale = 1024 * 1024;
  } else if (absl::ConsumeSuffix(&t, "KiB")) {
    scale = 1024;
  } else {
    absl::ConsumeSuffix(&t, "B");
  }
  uint64_t n = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(t), &n) ||
      n * scale > UINT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text, "' is not a size such as 4096, 320 KiB or 1 MiB"));
  }
  return static_cast<uint32_t>(n * scale);
}

absl::StatusOr<BoardCatalog> BoardCatalog::Parse(absl::string_view text,
                                                 absl::string_view source) {
  BoardCatalog catalog;
  int line_number = 0;
  int board_line = 0;
  const auto finish = [&]() -> absl::Status {
    if (catalog.boards_.empty()) return absl::OkStatus();
    absl::Status complete = CheckComplete(catalog.boards_.back());
    if (!complete.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", board_line, ": board '",
                       catalog.boards_.back().name, "': ", complete.message()));
    }
    return absl::OkStatus();
  };
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_number;
    const absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    const auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", line_number, ": ", what));
    };
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) {
        return error(absl::StrCat("bad board header '", line, "'"));
      }
      MCUNAS_RETURN_IF_ERROR(finish());
      BoardProfile board;
      board.name = std::string(line.substr(1, line.size() - 2));
      for (const BoardProfile& other : catalog.boards_) {
        if (other.name == board.name) {
          return error(absl::StrCat("board '", board.name, "' twice"));
        }
      }
      catalog.boards_.push_back(std::move(board));
      board_line = line_number;
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return error(absl::StrCat("expected 'key = value', got '", line, "'"));
    }
    if (catalog.boards_.empty()) return error("key before the first [board]");
    const absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, eq));
    const absl::string_view value =
        absl::StripAsciiWhitespace(line.substr(eq + 1));
    absl::Status set = SetField(catalog.boards_.back(), key, value);
    if (!set.ok()) {
      return error(absl::StrCat("board '", catalog.boards_.back().name, "': ",
                                set.message()));
    }
  }
  MCUNAS_RETURN_IF_ERROR(finish());
  if (catalog.boards_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": no boards"));
  }
  return catalog;
}

absl::StatusOr<BoardCatalog> BoardCatalog::Load(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return absl::NotFoundError(
        absl::StrCat("cannot open the board catalogue ", path));
  }
  std::stringstream text;
  text << file.rdbuf();
  return Parse(text.str(), path);
}

absl::StatusOr<BoardProfile> BoardCatalog::Find(absl::string_view name) const {
  std::vector<std::string> names;
  for (const BoardProfile& board : boards_) {
    if (board.name == name) return board;
    names.push_back(board.name);
  }
  return absl::NotFoundError(absl::StrCat("no board '", name,
                                          "' in the catalogue; boards: ",
                                          absl::StrJoin(names, ", ")));
}

std::string DefaultCatalogPath() {
  const char* env = std::getenv("MCUNAS_BOARDS");
  if (env != nullptr && env[0] != '\0') return env;
  return MCUNAS_DEFAULT_BOARDS;
}

}  // namespace mcunas::devices
