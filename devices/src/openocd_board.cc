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
#include "runner_board.h"
#include "runner_session.h"
#include "subprocess.h"

namespace mcunas::devices {
namespace {

// Erasing and programming a few hundred KiB of flash takes seconds.
constexpr absl::Duration kFlashTimeout = absl::Seconds(120);

}  // namespace

class OpenOcdBoard::Impl final : public RunnerBoard {
 public:
  Impl(BoardProfile board, std::string firmware_path, DeviceOptions options)
      : RunnerBoard(std::move(board), std::move(firmware_path),
                    std::move(options), "OpenOCD", LatencyUnit::kCycles) {}
  ~Impl() override { Stop(); }

 private:
  absl::StatusOr<std::unique_ptr<RunnerSession>> Start() override;
  void StopServer() override {
    gdb_.reset();  // closing the connection leaves OpenOCD (and the core) up
    openocd_.reset();
  }
  Subprocess* server() override { return openocd_.get(); }
  absl::Status ServerHealth() override;
  // DWT and SysTick both count core clock cycles on silicon.
  double Latency(uint64_t ticks) const override {
    return static_cast<double>(ticks);
  }
  absl::Status WriteBlob(uint32_t address, const std::vector<uint8_t>& blob);

  std::unique_ptr<Subprocess> openocd_;
  std::unique_ptr<RspClient> gdb_;
};

absl::StatusOr<std::unique_ptr<RunnerSession>> OpenOcdBoard::Impl::Start() {
  OpenOcdPorts ports;
  ports.gdb = options_.gdb_port;
  ports.tcl = options_.tcl_port;
  const std::vector<std::string> argv = OpenOcdServerArgs(
      board_, options_.adapter_serial, ports, firmware_path_);
  MCUNAS_ASSIGN_OR_RETURN(
      openocd_,
      Subprocess::Spawn(argv, absl::StrCat(work_dir(), "/openocd.log")));
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
      std::unique_ptr<RunnerSession> session,
      RunnerSession::Start(gdb_.get(), firmware(), std::move(session_options)));
  DevicesLogger()->info("{}: OpenOCD pid {} flashed {}; timer {}", board_.name,
                        openocd_->pid(), firmware_path_,
                        session->timer() == runner::Timer::kDwtCycles
                            ? "DWT cycles"
                            : "SysTick");
  return session;
}

absl::Status OpenOcdBoard::Impl::WriteBlob(uint32_t address,
                                           const std::vector<uint8_t>& blob) {
  const std::string path = absl::StrCat(work_dir(), "/model.bin");
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

absl::Status OpenOcdBoard::Impl::ServerHealth() {
  if (session() == nullptr || openocd_ == nullptr || !openocd_->Running()) {
    return absl::UnavailableError(
        absl::StrCat(board_.name, ": no OpenOCD session"));
  }
  return absl::OkStatus();
}

OpenOcdBoard::OpenOcdBoard(BoardProfile board, std::string firmware_path,
                           DeviceOptions options)
    : impl_(std::make_unique<Impl>(std::move(board), std::move(firmware_path),
                                   std::move(options))) {}

OpenOcdBoard::~OpenOcdBoard() = default;

const BoardProfile& OpenOcdBoard::profile() const { return impl_->profile(); }
absl::Status OpenOcdBoard::Prepare() { return impl_->Prepare(); }
absl::StatusOr<RunResult> OpenOcdBoard::Run(const std::vector<uint8_t>& blob,
                                            const std::vector<int8_t>& inputs,
                                            const RunOptions& options) {
  return impl_->Run(blob, inputs, options);
}
absl::StatusOr<std::vector<double>> OpenOcdBoard::ProfileOps(
    const std::vector<uint8_t>& blob, const std::vector<int8_t>& inputs,
    const RunOptions& options) {
  return impl_->ProfileOps(blob, inputs, options);
}
absl::Status OpenOcdBoard::Health() { return impl_->Health(); }
absl::Status OpenOcdBoard::Reset() { return impl_->Reset(); }

}  // namespace mcunas::devices
