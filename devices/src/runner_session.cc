#include "runner_session.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/status.h"

namespace mcunas::devices {
namespace {

using runner::Command;
using runner::Mailbox;
using runner::Result;

// The request fields, written in one packet.
constexpr uint32_t kRequestOffset = offsetof(Mailbox, command);
constexpr uint32_t kRequestBytes = offsetof(Mailbox, result) - kRequestOffset;
// Parking runs a handful of instructions (StopMode::kWatchpoints).
constexpr absl::Duration kParkTimeout = absl::Seconds(5);

const char* CommandName(Command command) {
  switch (command) {
    case Command::kNone:
      return "ping";
    case Command::kLoad:
      return "load";
    case Command::kRun:
      return "run";
    case Command::kProfile:
      return "profile";
    case Command::kCalibrate:
      return "calibrate";
    case Command::kHang:
      return "hang (test hook)";
    case Command::kFault:
      return "fault (test hook)";
  }
  return "unknown command";
}

const char* ExceptionName(uint32_t number) {
  switch (number) {
    case 2:
      return "NMI";
    case 3:
      return "HardFault";
    case 4:
      return "MemManage";
    case 5:
      return "BusFault";
    case 6:
      return "UsageFault";
    case 7:
      return "SecureFault";
    case 11:
      return "SVCall";
    case 12:
      return "DebugMonitor";
    case 14:
      return "PendSV";
    default:
      return "exception";
  }
}

}  // namespace

std::string OverBudgetMessage(const std::string& what, uint64_t needed,
                              const std::string& board, uint64_t limit) {
  return absl::StrFormat("model needs %d B of %s, board %s has %d B (over by %d B)",
                         needed, what, board, limit, needed - limit);
}

absl::StatusOr<std::unique_ptr<RunnerSession>> RunnerSession::Start(
    RspClient* gdb, const ElfImage& firmware, Options options) {
  std::unique_ptr<RunnerSession> session(
      new RunnerSession(gdb, std::move(options)));
  MCUNAS_ASSIGN_OR_RETURN(session->mailbox_address_,
                          firmware.Symbol(runner::kMailboxSymbol));
  MCUNAS_ASSIGN_OR_RETURN(session->halt_address_,
                          firmware.Symbol(runner::kHaltSymbol));
  MCUNAS_ASSIGN_OR_RETURN(session->pc_register_, gdb->RegisterNumber("pc"));
  MCUNAS_ASSIGN_OR_RETURN(session->lr_register_, gdb->RegisterNumber("lr"));
  MCUNAS_RETURN_IF_ERROR(gdb->InsertBreakpoint(session->options_.breakpoint,
                                               session->halt_address_));
  absl::StatusOr<StopReply> stop =
      gdb->Continue(session->options_.boot_timeout);
  if (!stop.ok()) {
    return absl::Status(stop.status().code(),
                        absl::StrCat(session->options_.board_name,
                                     ": the runner firmware did not boot: ",
                                     stop.status().message()));
  }
  MCUNAS_RETURN_IF_ERROR(session->ReadMailbox(&session->layout_));
  const Mailbox& box = session->layout_;
  if (box.magic != runner::kMailboxMagic ||
      box.version != runner::kProtocolVersion ||
      box.mailbox_bytes != sizeof(Mailbox)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the firmware's mailbox at 0x%08x has magic 0x%08x, version %d, "
        "%d bytes; this host speaks version %d with %d bytes (rebuild the "
        "firmware with scripts/cross_build)",
        session->options_.board_name, session->mailbox_address_, box.magic,
        box.version, box.mailbox_bytes, runner::kProtocolVersion,
        sizeof(Mailbox)));
  }
  session->reply_ = box;
  if (session->options_.stop_mode == StopMode::kWatchpoints) {
    MCUNAS_RETURN_IF_ERROR(session->Park());
  }
  return session;
}

absl::Status RunnerSession::Park() {
  // The core is on the halt breakpoint, before the halt function's `bx lr`.
  // Removing the breakpoint costs one flush of translated code, once.
  RspBatch park;
  park.RemoveBreakpoint(options_.breakpoint, halt_address_);
  park.InsertWatchpoint(WatchpointType::kRead, command_address(), 4);
  park.InsertWatchpoint(WatchpointType::kRead, halt_count_address(), 4);
  absl::StatusOr<RspClient::PipelineResult> parked =
      gdb_->Pipeline(park, kParkTimeout);
  if (!parked.ok()) {
    return absl::Status(
        parked.status().code(),
        absl::StrCat(options_.board_name,
                     ": the runner did not reach its command loop: ",
                     parked.status().message()));
  }
  if (!parked->stop.watchpoint ||
      parked->stop.watch_address != command_address()) {
    return absl::InternalError(absl::StrFormat(
        "%s: the runner did not stop before reading its first command (%s)",
        options_.board_name, parked->stop.raw));
  }
  return absl::OkStatus();
}

absl::Status RunnerSession::ReadMailbox(Mailbox* box) {
  MCUNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                          gdb_->ReadMemory(mailbox_address_, sizeof(Mailbox)));
  std::memcpy(box, bytes.data(), sizeof(Mailbox));
  return absl::OkStatus();
}

absl::Status RunnerSession::NoStop(runner::Command command,
                                   const absl::Status& status) {
  return absl::Status(
      status.code(),
      absl::StrCat(options_.board_name, ": ", CommandName(command), ": ",
                   absl::IsDeadlineExceeded(status)
                       ? "the firmware hung (no result in time): "
                       : "",
                   status.message()));
}

absl::StatusOr<std::vector<std::vector<uint8_t>>> RunnerSession::Command(
    runner::Command command, uint32_t flags, uint32_t reps,
    absl::Duration timeout, RspBatch before, RspBatch after) {
  Mailbox request{};
  request.command = static_cast<uint32_t>(command);
  request.flags = flags;
  request.reps = reps;
  request.sram_budget = sram_budget_;
  request.flash_budget = flash_budget_;
  const auto* raw = reinterpret_cast<const uint8_t*>(&request);
  before.WriteMemory(mailbox_address_ + kRequestOffset,
                     absl::MakeConstSpan(raw + kRequestOffset, kRequestBytes));
  std::vector<uint8_t> box;
  MCUNAS_ASSIGN_OR_RETURN(
      std::vector<std::vector<uint8_t>> reads,
      options_.stop_mode == StopMode::kWatchpoints
          ? ResumeWithWatchpoints(command, timeout, std::move(before),
                                  std::move(after), &box)
          : ResumeWithBreakpoint(command, timeout, std::move(before),
                                 std::move(after), &box));
  std::memcpy(&reply_, box.data(), sizeof(Mailbox));
  MCUNAS_RETURN_IF_ERROR(ResultToStatus(command));
  return reads;
}

absl::StatusOr<std::vector<std::vector<uint8_t>>>
RunnerSession::ResumeWithBreakpoint(runner::Command command,
                                    absl::Duration timeout, RspBatch before,
                                    RspBatch after, std::vector<uint8_t>* box) {
  MCUNAS_RETURN_IF_ERROR(gdb_->Pipeline(before).status());
  // The core sits on the halt breakpoint, at the halt function's only
  // instruction (`bx lr`): do what it would do and run to the next halt.
  // Stepping over the breakpoint instead would remove and re-insert it.
  MCUNAS_ASSIGN_OR_RETURN(uint32_t lr, gdb_->ReadRegister(lr_register_));
  MCUNAS_RETURN_IF_ERROR(gdb_->WriteRegister(pc_register_, lr & ~1u));
  absl::StatusOr<StopReply> stop = gdb_->Continue(timeout);
  if (!stop.ok()) return NoStop(command, stop.status());
  if (stop->kind == 'W' || stop->kind == 'X') {
    return absl::UnavailableError(
        absl::StrCat(options_.board_name, ": the target exited (", stop->raw,
                     ") during ", CommandName(command)));
  }
  const size_t mailbox = after.ReadMemory(mailbox_address_, sizeof(Mailbox));
  MCUNAS_ASSIGN_OR_RETURN(RspClient::PipelineResult done,
                          gdb_->Pipeline(after));
  Mailbox reply;
  std::memcpy(&reply, done.reads[mailbox].data(), sizeof(Mailbox));
  if (reply.halt_count == reply_.halt_count) {
    return absl::InternalError(absl::StrFormat(
        "%s: %s: the core stopped (%s) but not at the runner's halt point",
        options_.board_name, CommandName(command), stop->raw));
  }
  *box = std::move(done.reads[mailbox]);
  return std::move(done.reads);
}

absl::StatusOr<std::vector<std::vector<uint8_t>>>
RunnerSession::ResumeWithWatchpoints(runner::Command command,
                                     absl::Duration timeout, RspBatch before,
                                     RspBatch after,
                                     std::vector<uint8_t>* box) {
  const uint32_t command_at = command_address();
  const uint32_t halt_count_at = halt_count_address();
  // Go: from parked to "reply written, halt not yet counted".
  before.RemoveWatchpoint(WatchpointType::kRead, command_at, 4);
  before.RemoveWatchpoint(WatchpointType::kRead, halt_count_at, 4);
  before.InsertWatchpoint(WatchpointType::kWrite, halt_count_at, 4);
  absl::StatusOr<RspClient::PipelineResult> ran =
      gdb_->Pipeline(before, timeout);
  if (!ran.ok()) return NoStop(command, ran.status());
  const StopReply& stop = ran->stop;
  if (stop.kind == 'W' || stop.kind == 'X') {
    return absl::UnavailableError(
        absl::StrCat(options_.board_name, ": the target exited (", stop.raw,
                     ") during ", CommandName(command)));
  }
  if (!stop.watchpoint || stop.watch_address != halt_count_at) {
    return absl::InternalError(absl::StrFormat(
        "%s: %s: the core stopped (%s) but not at the runner's halt point",
        options_.board_name, CommandName(command), stop.raw));
  }
  // Park: read the reply, then on to "about to read the next command".
  const size_t mailbox = after.ReadMemory(mailbox_address_, sizeof(Mailbox));
  after.RemoveWatchpoint(WatchpointType::kWrite, halt_count_at, 4);
  after.InsertWatchpoint(WatchpointType::kRead, command_at, 4);
  after.InsertWatchpoint(WatchpointType::kRead, halt_count_at, 4);
  absl::StatusOr<RspClient::PipelineResult> parked =
      gdb_->Pipeline(after, kParkTimeout);
  if (!parked.ok()) return NoStop(command, parked.status());
  *box = std::move(parked->reads[mailbox]);
  Mailbox reply;
  std::memcpy(&reply, box->data(), sizeof(Mailbox));
  const bool in_fault_loop =
      parked->stop.watchpoint && parked->stop.watch_address == halt_count_at &&
      reply.result == static_cast<uint32_t>(Result::kFault);
  if (!in_fault_loop &&
      (!parked->stop.watchpoint || parked->stop.watch_address != command_at)) {
    return absl::InternalError(absl::StrFormat(
        "%s: %s: the runner did not come back to its command loop (%s)",
        options_.board_name, CommandName(command), parked->stop.raw));
  }
  return std::move(parked->reads);
}

absl::Status RunnerSession::ResultToStatus(runner::Command command) {
  const Mailbox& r = reply_;
  const std::string& board = options_.board_name;
  const char* name = CommandName(command);
  switch (static_cast<Result>(r.result)) {
    case Result::kOk:
      return absl::OkStatus();
    case Result::kOverSramBudget:
      return absl::ResourceExhaustedError(
          OverBudgetMessage("SRAM", r.needed, board, r.limit));
    case Result::kOverFlashBudget:
      return absl::ResourceExhaustedError(
          OverBudgetMessage("flash", r.needed, board, r.limit));
    case Result::kIoTooLarge:
      return absl::ResourceExhaustedError(absl::StrFormat(
          "model inputs and outputs need %d B of the runner's io buffer, "
          "board %s has %d B (over by %d B)",
          r.needed, board, r.limit, r.needed - r.limit));
    case Result::kLoadFailed: {
      const auto status = static_cast<engine::Status>(r.engine_status);
      std::string where;
      if (r.diag_what != 0) {
        absl::StatusOr<std::string> what = gdb_->ReadString(r.diag_what, 80);
        absl::StatusOr<std::string> scope = gdb_->ReadString(r.diag_scope, 16);
        if (what.ok() && scope.ok()) {
          where = absl::StrFormat(": %s %d: %s (value %d, limit %d)", *scope,
                                  r.diag_index, *what, r.diag_value,
                                  r.diag_limit);
        }
      }
      return absl::InvalidArgumentError(
          absl::StrCat(board, ": the firmware rejected the model: ",
                       engine::StatusName(status), where));
    }
    case Result::kNoModel:
      return absl::FailedPreconditionError(
          absl::StrCat(board, ": ", name, " before a model was loaded"));
    case Result::kInvokeFailed:
      return absl::InternalError(absl::StrCat(
          board, ": invoke failed on the board: ",
          engine::StatusName(static_cast<engine::Status>(r.engine_status))));
    case Result::kFault:
      return absl::InternalError(absl::StrFormat(
          "%s: the firmware crashed: %s at pc 0x%08x (lr 0x%08x, CFSR "
          "0x%08x, HFSR 0x%08x, BFAR 0x%08x) during %s",
          board, ExceptionName(r.fault_ipsr), r.fault_pc, r.fault_lr,
          r.fault_cfsr, r.fault_hfsr, r.fault_bfar, name));
    case Result::kBadArgument:
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: %s: bad argument (%d vs limit %d)", board, name, r.needed,
          r.limit));
    case Result::kUnknownCommand:
      return absl::InternalError(
          absl::StrCat(board, ": the firmware does not know ", name));
  }
  return absl::InternalError(
      absl::StrFormat("%s: %s: unknown result %d", board, name, r.result));
}

absl::Status RunnerSession::PutModel(const std::vector<uint8_t>& blob,
                                     bool* written) {
  *written = false;
  if (blob == resident_blob_) return absl::OkStatus();
  if (blob.size() > layout_.model_region_bytes) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "model blob of %d B does not fit the firmware's model region of %d B "
        "on %s",
        blob.size(), layout_.model_region_bytes, options_.board_name));
  }
  resident_blob_.clear();
  loaded_ = false;
  MCUNAS_RETURN_IF_ERROR(options_.write_blob(layout_.model_region, blob));
  resident_blob_ = blob;
  *written = true;
  return absl::OkStatus();
}

absl::Status RunnerSession::Load(uint32_t sram_budget, uint32_t flash_budget,
                                 uint32_t flags, absl::Duration timeout) {
  sram_budget_ = sram_budget;
  flash_budget_ = flash_budget;
  loaded_ = false;
  MCUNAS_RETURN_IF_ERROR(Command(Command::kLoad, flags, 0, timeout).status());
  loaded_ = true;
  loaded_flags_ = flags & runner::kFlagReferenceKernels;
  return absl::OkStatus();
}

absl::StatusOr<TickRun> RunnerSession::RunModel(
    const std::vector<uint8_t>& blob, const std::vector<int8_t>& inputs,
    const RunOptions& options, uint32_t sram_budget, uint32_t flash_budget) {
  if (options.runs < 1 || options.warmup < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "runs must be >= 1 and warmup >= 0 (got %d and %d)", options.runs,
        options.warmup));
  }
  bool written = false;
  MCUNAS_RETURN_IF_ERROR(PutModel(blob, &written));
  const uint32_t kernels =
      options.reference_kernels ? runner::kFlagReferenceKernels : 0;
  if (written || !loaded_ || kernels != loaded_flags_ ||
      sram_budget != sram_budget_ || flash_budget != flash_budget_) {
    const uint32_t verify = written && options_.verify_written_blobs
                                ? runner::kFlagVerifyChecksum
                                : 0;
    MCUNAS_RETURN_IF_ERROR(
        Load(sram_budget, flash_budget, kernels | verify, options.timeout));
  }
  if (inputs.size() != reply_.input_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "inputs are %d B, the model takes %d B", inputs.size(),
        reply_.input_bytes));
  }
  // One command for all reps, with the inputs, per-rep ticks and outputs
  // in its own requests: every resume and every round trip costs time.
  const uint32_t reps = static_cast<uint32_t>(options.warmup + options.runs);
  if (reps > layout_.profile_capacity) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "at most %d warm-up + measured runs per call", layout_.profile_capacity));
  }
  RspBatch before;
  before.WriteMemory(layout_.io,
                     absl::MakeConstSpan(
                         reinterpret_cast<const uint8_t*>(inputs.data()),
                         inputs.size()));
  // The loaded model's output placement is in every reply since its kLoad.
  RspBatch after;
  const size_t rep_ticks = after.ReadMemory(layout_.profile, reps * 4);
  const size_t outputs = after.ReadMemory(
      layout_.io + reply_.output_offset, reply_.output_bytes);
  MCUNAS_ASSIGN_OR_RETURN(
      std::vector<std::vector<uint8_t>> reads,
      Command(Command::kRun, 0, reps,
              options.timeout * static_cast<int64_t>(reps), std::move(before),
              std::move(after)));
  MCUNAS_ASSIGN_OR_RETURN(std::vector<uint64_t> ticks,
                          DecodeRepTicks(reads[rep_ticks], reps));
  TickRun run;
  run.ticks.assign(ticks.begin() + options.warmup, ticks.end());
  run.outputs.assign(reads[outputs].begin(), reads[outputs].end());
  return run;
}

absl::Status RunnerSession::WriteInputs(const std::vector<int8_t>& inputs) {
  if (inputs.size() != reply_.input_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "inputs are %d B, the model takes %d B", inputs.size(),
        reply_.input_bytes));
  }
  return gdb_->WriteMemory(
      layout_.io, absl::MakeConstSpan(
                      reinterpret_cast<const uint8_t*>(inputs.data()),
                      inputs.size()));
}

absl::StatusOr<RunTicks> RunnerSession::Run(uint32_t reps,
                                            absl::Duration timeout) {
  MCUNAS_RETURN_IF_ERROR(Command(Command::kRun, 0, reps, timeout).status());
  return RunTicks{reply_.ticks_total, reply_.ticks_min, reply_.ticks_max};
}

absl::StatusOr<std::vector<uint64_t>> RunnerSession::RepTicks(uint32_t reps) {
  MCUNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                          gdb_->ReadMemory(layout_.profile, reps * 4));
  return DecodeRepTicks(bytes, reps);
}

absl::StatusOr<std::vector<uint64_t>> RunnerSession::DecodeRepTicks(
    const std::vector<uint8_t>& bytes, uint32_t reps) {
  std::vector<uint64_t> ticks(reps);
  uint64_t sum = 0;
  for (uint32_t i = 0; i < reps; ++i) {
    uint32_t t;
    std::memcpy(&t, bytes.data() + 4 * i, 4);
    ticks[i] = t;
    sum += t;
  }
  if (sum != reply_.ticks_total) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: a run took more than 2^32 ticks (total %d over %d reps)",
        options_.board_name, reply_.ticks_total, reps));
  }
  return ticks;
}

absl::StatusOr<std::vector<int8_t>> RunnerSession::ReadOutputs() {
  MCUNAS_ASSIGN_OR_RETURN(
      std::vector<uint8_t> bytes,
      gdb_->ReadMemory(layout_.io + reply_.output_offset,
                       reply_.output_bytes));
  return std::vector<int8_t>(bytes.begin(), bytes.end());
}

absl::StatusOr<std::vector<uint64_t>> RunnerSession::Profile(
    absl::Duration timeout) {
  MCUNAS_RETURN_IF_ERROR(Command(Command::kProfile, 0, 1, timeout).status());
  MCUNAS_ASSIGN_OR_RETURN(
      std::vector<uint8_t> bytes,
      gdb_->ReadMemory(layout_.profile, reply_.op_count * 4));
  std::vector<uint64_t> ticks(reply_.op_count);
  for (uint32_t i = 0; i < reply_.op_count; ++i) {
    uint32_t t;
    std::memcpy(&t, bytes.data() + 4 * i, 4);
    ticks[i] = t;
  }
  return ticks;
}

absl::StatusOr<uint64_t> RunnerSession::Calibrate(uint32_t iterations,
                                                  absl::Duration timeout) {
  MCUNAS_RETURN_IF_ERROR(
      Command(Command::kCalibrate, 0, iterations, timeout).status());
  return reply_.ticks_total;
}

absl::Status RunnerSession::Execute(runner::Command command,
                                    absl::Duration timeout) {
  return Command(command, 0, 1, timeout).status();
}

}  // namespace mcunas::devices
