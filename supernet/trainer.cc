#include "mcunas/supernet/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "logging.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/supernet/evaluate.h"
#include "mcunas/supernet/ops.h"

namespace mcunas::supernet {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

bool SameConfig(const MbnetConfig& a, const MbnetConfig& b) {
  return MbnetConfigString(a) == MbnetConfigString(b) && a.bn_eps == b.bn_eps &&
         a.bn_momentum == b.bn_momentum;
}

absl::Status CheckResumable(const Checkpoint& ckpt, const Mbnet& net,
                            const TrainOptions& o, const std::string& path) {
  const TrainState& s = ckpt.state;
  auto mismatch = [&](const std::string& what, const std::string& saved,
                      const std::string& now) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": checkpoint was made with ", what, " ", saved, ", not ", now,
        "; use another --out or the original settings"));
  };
  if (!SameConfig(ckpt.config, net.config())) {
    return mismatch("architecture", MbnetConfigString(ckpt.config),
                    MbnetConfigString(net.config()));
  }
  if (s.epochs != o.epochs) {
    return mismatch("epochs", absl::StrCat(s.epochs), absl::StrCat(o.epochs));
  }
  if (s.batch_size != o.batch_size) {
    return mismatch("batch", absl::StrCat(s.batch_size),
                    absl::StrCat(o.batch_size));
  }
  if (s.base_lr != o.lr) {
    return mismatch("lr", absl::StrCat(s.base_lr), absl::StrCat(o.lr));
  }
  if (s.seed != o.seed) {
    return mismatch("seed", absl::StrCat(s.seed), absl::StrCat(o.seed));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainResult> Train(Mbnet* net, ThreadPool& pool,
                                  const BatchLoader& train,
                                  const BatchLoader* validation,
                                  const TrainOptions& options) {
  const int64_t steps_per_epoch = train.Batches(options.batch_size, true);
  if (steps_per_epoch <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training set of ", train.size(), " images is smaller than a batch of ",
        options.batch_size));
  }
  if (options.epochs <= 0) {
    return absl::InvalidArgumentError("epochs must be positive");
  }
  Sgd sgd(options.sgd);
  TrainState state;
  state.epochs = options.epochs;
  state.batch_size = options.batch_size;
  state.base_lr = options.lr;
  state.seed = options.seed;
  TrainResult result;
  std::shared_ptr<spdlog::logger> log = internal::Logger();

  const std::string& path = options.checkpoint_path;
  if (!path.empty() && std::filesystem::exists(path)) {
    MCUNAS_ASSIGN_OR_RETURN(Checkpoint ckpt, ReadCheckpoint(path));
    MCUNAS_RETURN_IF_ERROR(CheckResumable(ckpt, *net, options, path));
    MCUNAS_RETURN_IF_ERROR(RestoreCheckpoint(ckpt, net, &sgd));
    state = ckpt.state;
    result.resumed = true;
    result.resumed_from_step = state.global_step;
    log->info("resuming from {}: epoch {} step {} (global step {})", path,
              state.epoch + 1, state.step, state.global_step);
  }

  CosineSchedule schedule;
  schedule.base_lr = options.lr;
  schedule.total_steps = steps_per_epoch * options.epochs;
  schedule.warmup_steps = static_cast<int64_t>(
      std::llround(options.warmup_epochs * steps_per_epoch));

  const std::vector<Parameter*> params = net->Parameters();
  auto save = [&]() -> absl::Status {
    if (path.empty()) return absl::OkStatus();
    return WriteCheckpoint(path, MakeCheckpoint(*net, &sgd, state));
  };

  Tensor images, logits, dlogits;
  std::vector<int32_t> labels;
  Clock::time_point last_save = Clock::now();
  // Throughput over a sliding window of recent steps.
  Clock::time_point window_start = Clock::now();
  int64_t window_images = 0;
  double images_per_second = 0.0;

  while (state.epoch < options.epochs) {
    while (state.step < steps_per_epoch) {
      if (options.max_steps > 0 && state.global_step >= options.max_steps) {
        result.global_step = state.global_step;
        result.train_seconds = state.train_seconds;
        return result;
      }
      const Clock::time_point start = Clock::now();
      train.Fill(pool, state.epoch, state.step, options.batch_size, true,
                 &images, &labels);
      net->Forward(pool, images, ForwardMode::kTrain, &logits);
      int64_t correct = 0;
      const double loss =
          SoftmaxCrossEntropy(logits, labels, &dlogits, &correct);
      if (!std::isfinite(loss)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "training diverged (loss ", loss, ") at epoch ", state.epoch + 1,
            " step ", state.step, "; lower --lr"));
      }
      net->Backward(pool, dlogits);
      const float lr = schedule.At(state.global_step);
      sgd.Step(params, lr);
      const Clock::time_point end = Clock::now();

      ++state.step;
      ++state.global_step;
      state.epoch_loss_sum += loss * labels.size();
      state.epoch_correct += correct;
      state.epoch_images += static_cast<int64_t>(labels.size());
      state.train_seconds += Seconds(start, end);
      window_images += static_cast<int64_t>(labels.size());
      const double window = Seconds(window_start, end);
      if (window >= 2.0 || images_per_second == 0.0) {
        images_per_second = window_images / std::max(window, 1e-9);
        window_start = end;
        window_images = 0;
      }

      if (options.on_progress) {
        TrainProgress p;
        p.epoch = state.epoch;
        p.epochs = options.epochs;
        p.step = state.step;
        p.steps_per_epoch = steps_per_epoch;
        p.loss = state.epoch_loss_sum / state.epoch_images;
        p.accuracy =
            static_cast<double>(state.epoch_correct) / state.epoch_images;
        p.images_per_second = images_per_second;
        const int64_t left = schedule.total_steps - state.global_step;
        p.seconds_left =
            left * options.batch_size / std::max(images_per_second, 1e-9);
        p.lr = lr;
        options.on_progress(p);
      }
      const bool step_due = options.checkpoint_steps > 0 &&
                            state.global_step % options.checkpoint_steps == 0;
      const bool time_due =
          Seconds(last_save, Clock::now()) >= options.checkpoint_seconds;
      if (state.step < steps_per_epoch && (step_due || time_due)) {
        MCUNAS_RETURN_IF_ERROR(save());
        last_save = Clock::now();
      }
    }
    // Epoch end: validate, then checkpoint the position of the next epoch.
    TrainProgress p;
    p.epoch = state.epoch;
    p.epochs = options.epochs;
    p.step = p.steps_per_epoch = steps_per_epoch;
    p.loss =
        state.epoch_images > 0 ? state.epoch_loss_sum / state.epoch_images : 0;
    p.accuracy =
        state.epoch_images > 0
            ? static_cast<double>(state.epoch_correct) / state.epoch_images
            : 0;
    p.images_per_second = images_per_second;
    p.epoch_end = true;
    if (validation != nullptr && validation->size() > 0) {
      const EvalResult v =
          EvaluateFloat(*net, pool, *validation, options.batch_size);
      p.validation_accuracy = result.validation_accuracy = v.accuracy();
      p.validation_loss = v.loss;
    }
    log->info(
        "epoch {}/{}: train loss {:.4f} acc {:.2f}%{}", state.epoch + 1,
        options.epochs, p.loss, 100 * p.accuracy,
        p.validation_accuracy >= 0
            ? absl::StrCat(", validation acc ",
                           absl::StrFormat("%.2f", 100 * p.validation_accuracy),
                           "%")
            : std::string());
    if (options.on_progress) options.on_progress(p);
    ++state.epoch;
    state.step = 0;
    state.epoch_loss_sum = 0.0;
    state.epoch_correct = 0;
    state.epoch_images = 0;
    MCUNAS_RETURN_IF_ERROR(save());
    last_save = Clock::now();
  }
  result.finished = true;
  result.global_step = state.global_step;
  result.train_seconds = state.train_seconds;
  return result;
}

}  // namespace mcunas::supernet
