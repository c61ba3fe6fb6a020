#include "mcunas/devices/emulated_board.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
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
#include "mcunas/devices/rsp_client.h"
#include "runner_board.h"
#include "runner_session.h"
#include "subprocess.h"

namespace mcunas::devices {
namespace {

// The Thumb bit of xPSR: set, or the first instruction faults.
constexpr uint32_t kXpsrThumb = 0x01000000u;
// Iterations of the calibration loop (2 instructions each).
constexpr uint32_t kCalibrationIterations = 1u << 20;

// Where each MPS2 machine maps its main RAM (the 16 MiB PSRAM).
constexpr uint32_t kMachineRamBytes = 16u << 20;
uint32_t MachineRamBase(const std::string& machine) {
  if (machine == "mps2-an386" || machine == "mps2-an385") return 0x21000000u;
  if (machine == "mps2-an500") return 0x60000000u;
  if (machine == "mps2-an505") return 0x80000000u;
  return 0;
}

// A fresh name for the shared RAM file: tmpfs when there is one.
std::string RamFilePath(const std::string& board, const std::string& work_dir) {
  static std::atomic<int> counter{0};
  if (access("/dev/shm", W_OK) == 0) {
    return absl::StrCat("/dev/shm/mcunas-", board, "-", getpid(), "-",
                        counter++);
  }
  return absl::StrCat(work_dir, "/ram");
}

}  // namespace

class EmulatedBoard::Impl final : public RunnerBoard {
 public:
  Impl(BoardProfile board, std::string firmware_path, DeviceOptions options)
      : RunnerBoard(std::move(board), std::move(firmware_path),
                    std::move(options), "QEMU",
                    LatencyUnit::kEmulatedInstructions) {}
  ~Impl() override { Stop(); }

  double TicksToInstructions(uint64_t ticks) const;
  absl::StatusOr<double> CalibrateTicksPerInstruction();
  absl::Status RunTestHook(runner::Command hook, absl::Duration timeout);
  pid_t emulator_pid() const { return emulator_pid_.load(); }
  int32_t starts() const { return starts_; }

 private:
  absl::StatusOr<std::unique_ptr<RunnerSession>> Start() override;
  void StopServer() override;
  Subprocess* server() override { return qemu_.get(); }
  absl::Status ServerHealth() override;
  double Latency(uint64_t ticks) const override {
    return TicksToInstructions(ticks);
  }
  std::string DescribeFailure(const absl::Status& error) override;
  absl::Status WriteBlob(uint32_t address, const std::vector<uint8_t>& blob);

  std::unique_ptr<Subprocess> qemu_;
  std::unique_ptr<RspClient> gdb_;
  // The machine's main RAM, shared with QEMU: mapped at ram_ for ram_bytes_
  // from guest address ram_base_ (null when the machine has none we know).
  std::string ram_path_;
  uint8_t* ram_ = nullptr;
  uint32_t ram_base_ = 0;
  uint32_t ram_bytes_ = 0;
  std::atomic<pid_t> emulator_pid_{-1};
  int32_t starts_ = 0;
};

void EmulatedBoard::Impl::StopServer() {
  if (gdb_ != nullptr) gdb_->Kill();
  gdb_.reset();
  qemu_.reset();  // kills and reaps
  emulator_pid_ = -1;
  if (ram_ != nullptr) munmap(ram_, ram_bytes_);
  ram_ = nullptr;
  if (!ram_path_.empty()) unlink(ram_path_.c_str());
  ram_path_.clear();
}

absl::StatusOr<std::unique_ptr<RunnerSession>> EmulatedBoard::Impl::Start() {
  ++starts_;
  const std::string socket = absl::StrCat(work_dir(), "/gdb.sock");
  RemoveTree(socket);
  ram_base_ = MachineRamBase(board_.qemu_machine);
  std::vector<std::string> argv = {
      "qemu-system-arm",
      "-M",
      board_.qemu_machine,
      "-nographic",
      "-monitor",
      "none",
      "-serial",
      "null",
      // Virtual time advances 2^shift ns per instruction, so SysTick counts
      // instructions; no alignment to host time, no sleeping.
      "-icount",
      absl::StrFormat("shift=%d,align=off,sleep=on", board_.icount_shift),
      "-chardev",
      absl::StrCat("socket,id=gdb,path=", socket, ",server=on,wait=off"),
      "-gdb",
      "chardev:gdb",
      "-S",
  };
  if (ram_base_ != 0) {
    ram_path_ = RamFilePath(board_.name, work_dir());
    ram_bytes_ = kMachineRamBytes;
    const std::vector<std::string> ram = {
        "-m", "16M", "-object",
        absl::StrCat("memory-backend-file,id=ram,size=16M,mem-path=",
                     ram_path_, ",share=on"),
        "-machine", "memory-backend=ram"};
    argv.insert(argv.end(), ram.begin(), ram.end());
  }
  MCUNAS_ASSIGN_OR_RETURN(
      qemu_, Subprocess::Spawn(argv, absl::StrCat(work_dir(), "/qemu.log")));
  emulator_pid_ = qemu_->pid();
  MCUNAS_ASSIGN_OR_RETURN(
      gdb_, RspClient::Connect(absl::StrCat("unix:", socket),
                               options_.boot_timeout));
  MCUNAS_RETURN_IF_ERROR(gdb_->Handshake());
  if (ram_base_ != 0) {
    // QEMU has created the file by the time it serves GDB.
    const int fd = open(ram_path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("open ", ram_path_));
    }
    void* mapped =
        mmap(nullptr, ram_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (mapped == MAP_FAILED) {
      return absl::ErrnoToStatus(errno, absl::StrCat("mmap ", ram_path_));
    }
    ram_ = static_cast<uint8_t*>(mapped);
  }

  // Load every segment, then start at the reset vector as the core would
  // (no -kernel: a reset would copy it back over the model region).
  for (const ElfSegment& segment : firmware().segments()) {
    MCUNAS_RETURN_IF_ERROR(gdb_->WriteMemory(segment.address, segment.data));
  }
  const uint32_t vectors = firmware().segments().front().address;
  MCUNAS_ASSIGN_OR_RETURN(uint32_t initial_sp, firmware().Word(vectors));
  MCUNAS_ASSIGN_OR_RETURN(uint32_t reset, firmware().Word(vectors + 4));
  MCUNAS_ASSIGN_OR_RETURN(int sp, gdb_->RegisterNumber("sp"));
  MCUNAS_ASSIGN_OR_RETURN(int pc, gdb_->RegisterNumber("pc"));
  MCUNAS_ASSIGN_OR_RETURN(int xpsr, gdb_->RegisterNumber("xpsr"));
  MCUNAS_RETURN_IF_ERROR(gdb_->WriteRegister(sp, initial_sp));
  MCUNAS_RETURN_IF_ERROR(gdb_->WriteRegister(pc, reset & ~1u));
  MCUNAS_RETURN_IF_ERROR(gdb_->WriteRegister(xpsr, kXpsrThumb));

  // QEMU's gdbstub answers requests in order and needs no ack before the
  // next one, so batches of requests go in one write.
  gdb_->set_pipelining(true);
  RunnerSession::Options session_options;
  session_options.board_name = board_.name;
  // Breakpoint stops make QEMU retranslate all code; watchpoint stops don't.
  session_options.stop_mode = StopMode::kWatchpoints;
  session_options.breakpoint = BreakpointType::kSoftware;
  session_options.boot_timeout = options_.boot_timeout;
  session_options.write_blob = [this](uint32_t address,
                                      const std::vector<uint8_t>& blob) {
    return WriteBlob(address, blob);
  };
  // A memcpy into shared memory cannot corrupt the blob; GDB packets are
  // checksummed too, but the board's CRC check is cheap insurance there.
  session_options.verify_written_blobs = ram_ == nullptr;
  MCUNAS_ASSIGN_OR_RETURN(
      std::unique_ptr<RunnerSession> session,
      RunnerSession::Start(gdb_.get(), firmware(), std::move(session_options)));
  if (ram_ != nullptr &&
      (session->layout().model_region < ram_base_ ||
       session->layout().model_region - ram_base_ +
               uint64_t{session->layout().model_region_bytes} >
           ram_bytes_)) {
    // A firmware linked for another layout: write blobs over GDB instead.
    DevicesLogger()->warn("{}: the firmware's model region is not in the "
                          "shared RAM; writing blobs over GDB",
                          board_.name);
  }
  if (session->timer() != runner::Timer::kSysTick) {
    return absl::FailedPreconditionError(absl::StrCat(
        board_.name, ": the firmware found a DWT cycle counter on QEMU; "
                     "emulated instruction counts need SysTick"));
  }
  DevicesLogger()->debug("{}: QEMU pid {} booted {} (start #{})", board_.name,
                         qemu_->pid(), firmware_path_, starts_);
  return session;
}

absl::Status EmulatedBoard::Impl::WriteBlob(uint32_t address,
                                            const std::vector<uint8_t>& blob) {
  if (ram_ != nullptr && address >= ram_base_ &&
      address - ram_base_ + uint64_t{blob.size()} <= ram_bytes_) {
    std::memcpy(ram_ + (address - ram_base_), blob.data(), blob.size());
    return absl::OkStatus();
  }
  return gdb_->WriteMemory(address, blob);
}

std::string EmulatedBoard::Impl::DescribeFailure(const absl::Status& error) {
  // A lost connection usually means QEMU died; its socket closes a moment
  // before it can be reaped, so give it that moment to say how it died.
  if (qemu_ == nullptr) return "";
  const absl::Time deadline = absl::Now() + absl::Milliseconds(500);
  while (absl::IsUnavailable(error) && qemu_->Running() &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (qemu_->Running()) return "";
  return absl::StrCat(" (QEMU ", qemu_->DescribeExit(), ")");
}

absl::Status EmulatedBoard::Impl::ServerHealth() {
  if (session() == nullptr || qemu_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(board_.name, " is not started"));
  }
  if (!qemu_->Running()) {
    return absl::UnavailableError(
        absl::StrCat(board_.name, ": QEMU ", qemu_->DescribeExit()));
  }
  return absl::OkStatus();
}

double EmulatedBoard::Impl::TicksToInstructions(uint64_t ticks) const {
  const double ns_per_tick = 1e9 / static_cast<double>(board_.clock_hz);
  const double ns_per_instruction = std::ldexp(1.0, board_.icount_shift);
  return std::round(static_cast<double>(ticks) * ns_per_tick /
                    ns_per_instruction);
}

absl::StatusOr<double> EmulatedBoard::Impl::CalibrateTicksPerInstruction() {
  MCUNAS_RETURN_IF_ERROR(Prepare());
  absl::StatusOr<uint64_t> ticks =
      session()->Calibrate(kCalibrationIterations, absl::Seconds(10));
  if (!ticks.ok()) return RestartIfNeeded(ticks.status());
  return static_cast<double>(*ticks) / (2.0 * kCalibrationIterations);
}

absl::Status EmulatedBoard::Impl::RunTestHook(runner::Command hook,
                                              absl::Duration timeout) {
  if (hook != runner::Command::kHang && hook != runner::Command::kFault) {
    return absl::InvalidArgumentError("not a test hook");
  }
  MCUNAS_RETURN_IF_ERROR(Prepare());
  return RestartIfNeeded(session()->Execute(hook, timeout));
}

EmulatedBoard::EmulatedBoard(BoardProfile board, std::string firmware_path,
                             DeviceOptions options)
    : impl_(std::make_unique<Impl>(std::move(board), std::move(firmware_path),
                                   std::move(options))) {}

EmulatedBoard::~EmulatedBoard() = default;

const BoardProfile& EmulatedBoard::profile() const { return impl_->profile(); }
absl::Status EmulatedBoard::Prepare() { return impl_->Prepare(); }
absl::StatusOr<RunResult> EmulatedBoard::Run(const std::vector<uint8_t>& blob,
                                             const std::vector<int8_t>& inputs,
                                             const RunOptions& options) {
  return impl_->Run(blob, inputs, options);
}
absl::StatusOr<std::vector<double>> EmulatedBoard::ProfileOps(
    const std::vector<uint8_t>& blob, const std::vector<int8_t>& inputs,
    const RunOptions& options) {
  return impl_->ProfileOps(blob, inputs, options);
}
absl::Status EmulatedBoard::Health() { return impl_->Health(); }
absl::Status EmulatedBoard::Reset() { return impl_->Reset(); }

double EmulatedBoard::TicksToInstructions(uint64_t ticks) const {
  return impl_->TicksToInstructions(ticks);
}
absl::StatusOr<double> EmulatedBoard::CalibrateTicksPerInstruction() {
  return impl_->CalibrateTicksPerInstruction();
}
absl::Status EmulatedBoard::RunTestHook(runner::Command hook,
                                        absl::Duration timeout) {
  return impl_->RunTestHook(hook, timeout);
}
pid_t EmulatedBoard::emulator_pid() const { return impl_->emulator_pid(); }
int32_t EmulatedBoard::starts() const { return impl_->starts(); }
RunnerSession* EmulatedBoard::session_for_testing() {
  return impl_->session();
}

}  // namespace mcunas::devices
