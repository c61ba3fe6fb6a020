#include "mcunas/devices/openocd_board.h"

#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "device_internal.h"
#include "elf_image.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/devices/openocd.h"
#include "mcunas/devices/rsp_client.h"
#include "mcunas/engine/host/model_file.h"
#include "runner_session.h"
#include "subprocess.h"

namespace mcunas::devices {
namespace {

// Erasing and programming a few hundred KiB of flash takes seconds.
constexpr absl::Duration kFlashTimeout = absl::Seconds(120);

}  // namespace

OpenOcdBoard::OpenOcdBoard(BoardProfile board, std::string firmware_path,
                           DeviceOptions options)
    : board_(std::move(board)),
      firmware_path_(std::move(firmware_path)),
      options_(std::move(options)) {}

OpenOcdBoard::~OpenOcdBoard() {
  Stop();
  if (!work_dir_.empty()) RemoveTree(work_dir_);
}

void OpenOcdBoard::Stop() {
  session_.reset();
  gdb_.reset();  // closing the connection leaves OpenOCD (and the core) up
  openocd_.reset();
}

absl::Status OpenOcdBoard::Prepare() {
  if (session_ != nullptr && openocd_ != nullptr && openocd_->Running()) {
    return absl::OkStatus();
  }
  Stop();
  absl::Status started = Start();
  if (!started.ok()) {
    std::string log = openocd_ != nullptr ? openocd_->LogTail() : "";
    Stop();
    if (!log.empty()) {
      return absl::Status(
          started.code(),
          absl::StrCat(started.message(), "; OpenOCD said: ", log));
    }
  }
  return started;
}

absl::Status OpenOcdBoard::Start() {
  if (firmware_ == nullptr) {
    MCUNAS_ASSIGN_OR_RETURN(ElfImage image, ElfImage::Read(firmware_path_));
    firmware_ = std::make_unique<ElfImage>(std::move(image));
  }
  if (work_dir_.empty()) {
    MCUNAS_ASSIGN_OR_RETURN(work_dir_, MakeTempDir("mcunas-" + board_.name));
  }
  OpenOcdPorts ports;
  ports.gdb = options_.gdb_port;
  ports.tcl = options_.tcl_port;
  const std::vector<std::string> argv = OpenOcdServerArgs(
      board_, options_.adapter_serial, ports, firmware_path_);
  MCUNAS_ASSIGN_OR_RETURN(
      openocd_,
      Subprocess::Spawn(argv, absl::StrCat(work_dir_, "/openocd.log")));
  // OpenOCD serves RSP only after init and flashing: allow for both, but
  // give up as soon as it exits (no probe, wrong serial, flashing failed).
  const absl::Time deadline = absl::Now() + options_.boot_timeout + kFlashTimeout;
  absl::StatusOr<std::unique_ptr<RspClient>> gdb;
  for (;;) {
    gdb = RspClient::Connect(absl::StrCat("127.0.0.1:", ports.gdb),
                             absl::Milliseconds(200));
    if (gdb.ok()) break;
    if (!openocd_->Running()) {
      return absl::UnavailableError(absl::StrCat(
          board_.name, ": OpenOCD ", openocd_->DescribeExit(),
          " before serving RSP (no probe, wrong serial, or flashing failed)"));
    }
    if (absl::Now() >= deadline) return gdb.status();
  }
  gdb_ = std::move(*gdb);
  MCUNAS_RETURN_IF_ERROR(gdb_->Handshake());
  MCUNAS_RETURN_IF_ERROR(
      gdb_->Monitor(ResetHaltCommand(), options_.boot_timeout).status());

  RunnerSession::Options session_options;
  session_options.board_name = board_.name;
  // The halt function runs from flash: software breakpoints would need
  // flash rewrites.
  session_options.breakpoint = BreakpointType::kHardware;
  session_options.boot_timeout = options_.boot_timeout;
  session_options.write_blob = [this](uint32_t address,
                                      const std::vector<uint8_t>& blob) {
    return WriteBlob(address, blob);
  };
  MCUNAS_ASSIGN_OR_RETURN(
      session_,
      RunnerSession::Start(gdb_.get(), *firmware_, std::move(session_options)));
  DevicesLogger()->info("{}: OpenOCD pid {} flashed {}; timer {}", board_.name,
                        openocd_->pid(), firmware_path_,
                        session_->timer() == runner::Timer::kDwtCycles
                            ? "DWT cycles"
                            : "SysTick");
  return absl::OkStatus();
}

absl::Status OpenOcdBoard::WriteBlob(uint32_t address,
                                     const std::vector<uint8_t>& blob) {
  const std::string path = absl::StrCat(work_dir_, "/model.bin");
  {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(blob.data()),
               static_cast<std::streamsize>(blob.size()));
    if (!file) return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  for (const std::string& command : WriteBlobCommands(path, address)) {
    absl::StatusOr<std::string> output = gdb_->Monitor(command, kFlashTimeout);
    if (!output.ok()) return output.status();
    DevicesLogger()->debug("{}: {}: {}", board_.name, command, *output);
  }
  return absl::OkStatus();
}

absl::Status OpenOcdBoard::RestartAfter(const absl::Status& error) {
  DevicesLogger()->warn("{}; restarting the OpenOCD session",
                        std::string(error.message()));
  Stop();
  absl::Status restarted = Prepare();
  return absl::Status(
      error.code(),
      absl::StrCat(error.message(),
                   restarted.ok()
                       ? "; the board was restarted"
                       : absl::StrCat("; restarting the board failed too: ",
                                      restarted.message())));
}

absl::StatusOr<RunResult> OpenOcdBoard::Run(const std::vector<uint8_t>& blob,
                                            const std::vector<int8_t>& inputs,
                                            const RunOptions& options) {
  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<engine::LoadedModel> model,
                          engine::LoadedModel::FromBytes(blob));
  MCUNAS_RETURN_IF_ERROR(CheckBudgets(board_, model->model()));
  MCUNAS_RETURN_IF_ERROR(CheckInputBytes(model->model(), inputs));
  MCUNAS_RETURN_IF_ERROR(Prepare());
  absl::StatusOr<TickRun> run = session_->RunModel(
      blob, inputs, options, board_.sram_budget, board_.flash_budget);
  if (!run.ok()) {
    if (NeedsRestart(run.status())) return RestartAfter(run.status());
    return run.status();
  }
  RunResult result;
  result.outputs = std::move(run->outputs);
  // DWT and SysTick both count core clock cycles on silicon.
  result.unit = LatencyUnit::kCycles;
  for (uint64_t ticks : run->ticks) {
    result.latencies.push_back(static_cast<double>(ticks));
  }
  result.stats = Summarize(result.latencies);
  return result;
}

absl::StatusOr<std::vector<double>> OpenOcdBoard::ProfileOps(
    const std::vector<uint8_t>& blob, const std::vector<int8_t>& inputs,
    const RunOptions& options) {
  RunOptions one = options;
  one.warmup = 0;
  one.runs = 1;
  MCUNAS_RETURN_IF_ERROR(Run(blob, inputs, one).status());
  absl::StatusOr<std::vector<uint64_t>> ticks =
      session_->Profile(options.timeout);
  if (!ticks.ok()) {
    if (NeedsRestart(ticks.status())) return RestartAfter(ticks.status());
    return ticks.status();
  }
  return std::vector<double>(ticks->begin(), ticks->end());
}

absl::Status OpenOcdBoard::Health() {
  if (session_ == nullptr || openocd_ == nullptr || !openocd_->Running()) {
    return absl::UnavailableError(
        absl::StrCat(board_.name, ": no OpenOCD session"));
  }
  absl::Status ping =
      session_->Execute(runner::Command::kNone, absl::Seconds(2));
  if (!ping.ok()) {
    return absl::UnavailableError(
        absl::StrCat(board_.name, " does not answer: ", ping.message()));
  }
  return absl::OkStatus();
}

absl::Status OpenOcdBoard::Reset() {
  Stop();
  return Prepare();
}

}  // namespace mcunas::devices
