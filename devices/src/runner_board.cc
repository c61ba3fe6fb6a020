#include "runner_board.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "device_internal.h"
#include "mcunas/common/status_macros.h"

namespace mcunas::devices {

RunnerBoard::RunnerBoard(BoardProfile board, std::string firmware_path,
                         DeviceOptions options, std::string server_name,
                         LatencyUnit unit)
    : board_(std::move(board)),
      firmware_path_(std::move(firmware_path)),
      options_(std::move(options)),
      server_name_(std::move(server_name)),
      unit_(unit) {}

RunnerBoard::~RunnerBoard() {
  if (!work_dir_.empty()) RemoveTree(work_dir_);
}

void RunnerBoard::Stop() {
  session_.reset();  // it borrows the server's RSP connection
  StopServer();
}

absl::Status RunnerBoard::Prepare() {
  if (session_ != nullptr && server() != nullptr && server()->Running()) {
    return absl::OkStatus();
  }
  Stop();
  absl::Status started = ReadFirmwareAndStart();
  if (!started.ok()) {
    std::string log = server() != nullptr ? server()->LogTail() : "";
    Stop();
    if (!log.empty()) {
      return absl::Status(started.code(),
                          absl::StrCat(started.message(), "; ", server_name_,
                                       " said: ", log));
    }
  }
  return started;
}

absl::Status RunnerBoard::ReadFirmwareAndStart() {
  if (firmware_ == nullptr) {
    MCUNAS_ASSIGN_OR_RETURN(ElfImage image, ElfImage::Read(firmware_path_));
    firmware_ = std::make_unique<ElfImage>(std::move(image));
  }
  if (work_dir_.empty()) {
    MCUNAS_ASSIGN_OR_RETURN(work_dir_, MakeTempDir("mcunas-" + board_.name));
  }
  MCUNAS_ASSIGN_OR_RETURN(session_, Start());
  return absl::OkStatus();
}

std::string RunnerBoard::DescribeFailure(const absl::Status&) { return ""; }

absl::Status RunnerBoard::RestartIfNeeded(const absl::Status& status) {
  if (!NeedsRestart(status)) return status;
  const std::string why = DescribeFailure(status);
  DevicesLogger()->warn("{}{}; restarting the board",
                        std::string(status.message()), why);
  Stop();
  absl::Status restarted = Prepare();
  return absl::Status(
      status.code(),
      absl::StrCat(status.message(), why,
                   restarted.ok()
                       ? "; the board was restarted"
                       : absl::StrCat("; restarting the board failed too: ",
                                      restarted.message())));
}

absl::StatusOr<RunResult> RunnerBoard::Run(const std::vector<uint8_t>& blob,
                                           const std::vector<int8_t>& inputs,
                                           const RunOptions& options) {
  if (checked_model_ == nullptr || blob != checked_blob_) {
    checked_model_.reset();
    checked_blob_.clear();
    MCUNAS_ASSIGN_OR_RETURN(checked_model_,
                            engine::LoadedModel::FromBytes(blob));
    checked_blob_ = blob;
  }
  MCUNAS_RETURN_IF_ERROR(CheckBudgets(board_, checked_model_->model()));
  MCUNAS_RETURN_IF_ERROR(CheckInputBytes(checked_model_->model(), inputs));
  MCUNAS_RETURN_IF_ERROR(Prepare());
  absl::StatusOr<TickRun> run = session_->RunModel(
      blob, inputs, options, board_.sram_budget, board_.flash_budget);
  if (!run.ok()) return RestartIfNeeded(run.status());
  RunResult result;
  result.outputs = std::move(run->outputs);
  result.unit = unit_;
  for (uint64_t ticks : run->ticks) result.latencies.push_back(Latency(ticks));
  result.stats = Summarize(result.latencies);
  return result;
}

absl::StatusOr<std::vector<double>> RunnerBoard::ProfileOps(
    const std::vector<uint8_t>& blob, const std::vector<int8_t>& inputs,
    const RunOptions& options) {
  RunOptions one = options;
  one.warmup = 0;
  one.runs = 1;
  // Loads the model and stages the inputs (and checks budgets and sizes).
  MCUNAS_RETURN_IF_ERROR(Run(blob, inputs, one).status());
  absl::StatusOr<std::vector<uint64_t>> ticks =
      session_->Profile(options.timeout);
  if (!ticks.ok()) return RestartIfNeeded(ticks.status());
  std::vector<double> per_op;
  for (uint64_t t : *ticks) per_op.push_back(Latency(t));
  return per_op;
}

absl::Status RunnerBoard::Health() {
  MCUNAS_RETURN_IF_ERROR(ServerHealth());
  absl::Status ping =
      session_->Execute(runner::Command::kNone, absl::Seconds(2));
  if (!ping.ok()) {
    return absl::UnavailableError(
        absl::StrCat(board_.name, " does not answer: ", ping.message()));
  }
  return absl::OkStatus();
}

absl::Status RunnerBoard::Reset() {
  Stop();
  return Prepare();
}

}  // namespace mcunas::devices
