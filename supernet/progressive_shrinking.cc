#include "mcunas/supernet/progressive_shrinking.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "logging.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/supernet/evaluate.h"
#include "mcunas/supernet/ops.h"
#include "mcunas/supernet/supernet_checkpoint.h"

namespace mcunas::supernet {
namespace {

using Clock = std::chrono::steady_clock;
using searchspace::ArchSpec;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

bool Elastic(const ShrinkPhase& p) {
  return p.elastic.kernel || p.elastic.depth || p.elastic.expand;
}

// The smallest subnet a phase trains: the smallest choice where the phase
// is elastic, the largest elsewhere.
ArchSpec SmallestOfPhase(const ElasticSupernet& net, const Elasticity& e) {
  ArchSpec arch = net.Largest();
  const ArchSpec smallest = net.Smallest();
  for (size_t s = 0; s < arch.stages.size(); ++s) {
    if (e.depth) arch.stages[s].resize(smallest.stages[s].size());
    for (searchspace::BlockSpec& b : arch.stages[s]) {
      if (e.kernel) b.kernel = smallest.stages[s][0].kernel;
      if (e.expand) b.expand = smallest.stages[s][0].expand;
    }
  }
  return arch;
}

absl::Status CheckResumable(const Checkpoint& ckpt,
                            const SupernetPosition& saved,
                            const ElasticSupernet& net, const ShrinkOptions& o,
                            const std::string& path) {
  auto mismatch = [&](const std::string& what, const std::string& was,
                      const std::string& now) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": checkpoint was made with ", what, " ", was, ", not ", now,
        "; use another --out or the original settings"));
  };
  const std::string space = SpaceDefJson(net.space().def());
  if (ckpt.Metadata("space") != space) {
    return mismatch("space", ckpt.Metadata("space"), space);
  }
  if (saved.phases != PhasesString(o.phases)) {
    return mismatch("schedule", saved.phases, PhasesString(o.phases));
  }
  if (saved.state.batch_size != o.batch_size) {
    return mismatch("batch", absl::StrCat(saved.state.batch_size),
                    absl::StrCat(o.batch_size));
  }
  if (saved.state.seed != o.seed) {
    return mismatch("seed", absl::StrCat(saved.state.seed),
                    absl::StrCat(o.seed));
  }
  if (ckpt.Metadata("distill_weight") != absl::StrCat(o.distill_weight)) {
    return mismatch("distillation weight", ckpt.Metadata("distill_weight"),
                    absl::StrCat(o.distill_weight));
  }
  if (saved.method != MethodString(o)) {
    return mismatch("method", saved.method, MethodString(o));
  }
  return absl::OkStatus();
}

// Where a run that begins at another run's phase boundary
// (ShrinkOptions::start_from) stands, after restoring that run's weights,
// statistics and velocity into `net` and `sgd` and its teacher into
// `teacher`. `phase_steps` are this schedule's.
absl::StatusOr<SupernetPosition> StartAtBoundary(
    const ShrinkOptions& o, const std::vector<int64_t>& phase_steps,
    ElasticSupernet* net, Sgd* sgd, std::unique_ptr<Mbnet>* teacher) {
  const std::string& path = o.start_from;
  auto refuse = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot start from this checkpoint: ", why));
  };
  MCUNAS_ASSIGN_OR_RETURN(Checkpoint ckpt, ReadCheckpoint(path));
  MCUNAS_ASSIGN_OR_RETURN(SupernetPosition saved, SupernetPositionOf(ckpt));
  if (ckpt.Metadata("space") != SpaceDefJson(net->space().def())) {
    return refuse("it is of another space (or R, W)");
  }
  const int32_t done = saved.phase;
  if (saved.state.step != 0 || done < 1 ||
      done >= static_cast<int32_t>(o.phases.size())) {
    return refuse(absl::StrCat(
        "it is at phase ", done + 1, " step ", saved.state.step,
        ", not at the start of one of this schedule's elastic phases (a "
        "run saves one right after each phase ends)"));
  }
  const std::vector<std::string> saved_phases =
      absl::StrSplit(saved.phases, "; ");
  const std::vector<ShrinkPhase> finished(o.phases.begin(),
                                          o.phases.begin() + done);
  if (static_cast<int32_t>(saved_phases.size()) < done ||
      absl::StrJoin(saved_phases.begin(), saved_phases.begin() + done, "; ") !=
          PhasesString(finished)) {
    return refuse(absl::StrCat("its finished phases (", saved.phases,
                               ") are not this schedule's first ", done, " (",
                               PhasesString(finished), ")"));
  }
  if (saved.state.batch_size != o.batch_size || saved.state.seed != o.seed) {
    return refuse(absl::StrCat(
        "it was trained with batch ", saved.state.batch_size, " and seed ",
        saved.state.seed, ", not ", o.batch_size, " and ", o.seed));
  }
  if (o.lr_span != LrSpan::kPerPhase ||
      !absl::StartsWith(saved.method, "lr per-phase")) {
    return refuse(
        "both runs must have a cosine per phase (--lr-span per-phase): with "
        "one over the whole run, the finished phases' rates depend on the "
        "later phases' lengths");
  }
  if (done > 1 && (saved.method != MethodString(o) ||
                   saved.distill_weight != o.distill_weight)) {
    return refuse(
        absl::StrCat("its elastic phases were trained with ", saved.method,
                     ", distillation ", saved.distill_weight, "; this run has ",
                     MethodString(o), ", distillation ", o.distill_weight));
  }
  int64_t steps_done = 0;
  for (int32_t p = 0; p < done; ++p) steps_done += phase_steps[p];
  if (saved.state.global_step != steps_done) {
    return refuse(absl::StrCat("its phases took ", saved.state.global_step,
                               " steps, this schedule's ", steps_done,
                               " (another training set size?)"));
  }
  MCUNAS_RETURN_IF_ERROR(RestoreSupernet(ckpt, net, sgd));
  MCUNAS_ASSIGN_OR_RETURN(*teacher, TeacherFromCheckpoint(ckpt));
  saved.phases = PhasesString(o.phases);
  saved.method = MethodString(o);
  saved.distill_weight = o.distill_weight;
  return saved;
}

absl::Status CheckMethod(const ShrinkOptions& o) {
  const bool shares = o.subnet_loss == SubnetLoss::kLargestShare;
  if (shares && !(o.largest_share > 0 && o.largest_share < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("largest subnet's loss share ", o.largest_share,
                     " is not between 0 and 1"));
  }
  const bool in_place = o.teacher == Teacher::kInPlace && o.distill_weight > 0;
  for (const ShrinkPhase& p : o.phases) {
    if (!Elastic(p) || p.with_largest) continue;
    if (in_place) {
      return absl::InvalidArgumentError(absl::StrCat(
          "phase ", p.name,
          ": in-place distillation needs the largest subnet in every step "
          "(the sandwich rule's with_largest)"));
    }
    if (shares && p.subnets_per_step > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "phase ", p.name,
          ": a loss share for the largest subnet needs it in every step "
          "(the sandwich rule's with_largest)"));
    }
  }
  return absl::OkStatus();
}

std::string SubnetLossName(const ShrinkOptions& o) {
  switch (o.subnet_loss) {
    case SubnetLoss::kSum:
      return "sum";
    case SubnetLoss::kLargestShare:
      return absl::StrCat("largest ", o.largest_share);
    case SubnetLoss::kMean:
      break;
  }
  return "mean";
}

// With SubnetLoss::kLargestShare, the weight of subnet j's loss in a step
// of n > 1 subnets (j 0 is the sandwich's largest, CheckMethod).
float LargestShareWeight(const ShrinkOptions& o, int32_t j, int32_t n) {
  return j == 0 ? o.largest_share
                : (1.0f - o.largest_share) / static_cast<float>(n - 1);
}

}  // namespace

std::vector<ShrinkPhase> ProgressiveShrinkingPhases(
    float lr, double full_epochs, double kernel_epochs, double depth_epochs,
    double expand_epochs, int32_t subnets_per_step, bool with_largest,
    bool with_smallest) {
  // Later phases start from trained weights and fine-tune: lower peak
  // rates, no warm-up. OFA's ImageNet runs use smaller ratios (kernel 0.3,
  // depth/expand 0.03-0.1) over 100+ epochs; these short schedules need the
  // small subnets to move further per step.
  std::vector<ShrinkPhase> phases = {
      {"full", Elasticity{}, full_epochs, lr, std::min(0.5, full_epochs / 4),
       1},
      {"kernel", Elasticity{true, false, false}, kernel_epochs, lr * 0.4f, 0.0,
       subnets_per_step},
      {"depth", Elasticity{true, true, false}, depth_epochs, lr * 0.25f, 0.0,
       subnets_per_step},
      {"expand", Elasticity{true, true, true}, expand_epochs, lr * 0.25f, 0.0,
       subnets_per_step},
  };
  for (size_t p = 1; p < phases.size(); ++p) {
    phases[p].with_largest = with_largest;
    phases[p].with_smallest = with_smallest;
  }
  return phases;
}

std::string MethodString(const ShrinkOptions& options) {
  return absl::StrCat(
      "lr ", options.lr_span == LrSpan::kWholeRun ? "whole-run" : "per-phase",
      ", teacher ",
      options.teacher == Teacher::kInPlace ? "in-place" : "frozen", ", loss ",
      SubnetLossName(options));
}

SandwichSlot SlotOf(const ShrinkPhase& phase, int64_t phase_step, int32_t j) {
  if (!Elastic(phase)) return SandwichSlot::kLargest;
  if (phase.with_largest && j == 0) return SandwichSlot::kLargest;
  const int32_t smallest_slot = phase.with_largest ? 1 : 0;
  if (phase.with_smallest && j == smallest_slot &&
      phase_step % phase.smallest_every == 0) {
    return SandwichSlot::kSmallest;
  }
  return SandwichSlot::kRandom;
}

std::string PhasesString(const std::vector<ShrinkPhase>& phases) {
  std::vector<std::string> parts;
  for (const ShrinkPhase& p : phases) {
    // "/N" only when not every step, so that older checkpoints' strings,
    // and with them their resumes, stay the same.
    const std::string every =
        p.smallest_every > 1 ? absl::StrCat("/", p.smallest_every) : "";
    parts.push_back(absl::StrFormat(
        "%s %ge lr%g w%g x%d L%d S%d%s k%d d%d e%d", p.name, p.epochs, p.lr,
        p.warmup_epochs, p.subnets_per_step, p.with_largest, p.with_smallest,
        every, p.elastic.kernel, p.elastic.depth, p.elastic.expand));
  }
  return absl::StrJoin(parts, "; ");
}

absl::StatusOr<ShrinkResult> TrainSupernet(ElasticSupernet* net,
                                           ThreadPool& pool,
                                           const BatchLoader& train,
                                           const BatchLoader* validation,
                                           const ShrinkOptions& options) {
  const int64_t steps_per_epoch = train.Batches(options.batch_size, true);
  if (steps_per_epoch <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training set of ", train.size(), " images is smaller than a batch of ",
        options.batch_size));
  }
  if (options.phases.empty()) return absl::InvalidArgumentError("no phases");
  MCUNAS_RETURN_IF_ERROR(CheckMethod(options));
  std::vector<int64_t> phase_steps;
  int64_t total_steps = 0;
  for (const ShrinkPhase& p : options.phases) {
    if (!(p.epochs > 0) || p.subnets_per_step < 1 || !(p.lr > 0) ||
        p.smallest_every < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("phase ", p.name,
                       ": epochs, lr and smallest_every must be positive and "
                       "at least one subnet per step"));
    }
    phase_steps.push_back(std::max<int64_t>(
        1, std::llround(p.epochs * static_cast<double>(steps_per_epoch))));
    total_steps += phase_steps.back();
  }
  std::shared_ptr<spdlog::logger> log = internal::Logger();
  Sgd sgd(options.sgd);
  SupernetPosition pos;
  pos.state.epochs = static_cast<int32_t>(options.phases.size());
  pos.state.batch_size = options.batch_size;
  pos.state.base_lr = options.phases[0].lr;
  pos.state.seed = options.seed;
  pos.phases = PhasesString(options.phases);
  pos.method = MethodString(options);
  pos.distill_weight = options.distill_weight;
  const bool in_place = options.teacher == Teacher::kInPlace;
  const bool whole_run = options.lr_span == LrSpan::kWholeRun;
  const bool shares = options.subnet_loss == SubnetLoss::kLargestShare;
  std::unique_ptr<Mbnet> teacher;  // the frozen one; null when in place
  ShrinkResult result;

  const std::string& path = options.checkpoint_path;
  if (!path.empty() && std::filesystem::exists(path)) {
    MCUNAS_ASSIGN_OR_RETURN(Checkpoint ckpt, ReadCheckpoint(path));
    MCUNAS_ASSIGN_OR_RETURN(SupernetPosition saved, SupernetPositionOf(ckpt));
    MCUNAS_RETURN_IF_ERROR(CheckResumable(ckpt, saved, *net, options, path));
    MCUNAS_RETURN_IF_ERROR(RestoreSupernet(ckpt, net, &sgd));
    MCUNAS_ASSIGN_OR_RETURN(teacher, TeacherFromCheckpoint(ckpt));
    pos = saved;
    result.resumed = true;
    result.resumed_from_step = pos.state.global_step;
    log->info("resuming from {}: phase {} step {} (global step {})", path,
              pos.phase + 1, pos.state.step, pos.state.global_step);
  } else if (!options.start_from.empty()) {
    MCUNAS_ASSIGN_OR_RETURN(
        pos, StartAtBoundary(options, phase_steps, net, &sgd, &teacher));
    result.started_from = true;
    log->info("starting from {}: its first {} phase(s) done ({} steps)",
              options.start_from, pos.phase, pos.state.global_step);
  }
  auto save = [&]() -> absl::Status {
    if (path.empty()) return absl::OkStatus();
    return WriteCheckpoint(
        path, MakeSupernetCheckpoint(*net, &sgd, pos, teacher.get()));
  };

  const std::vector<Parameter*> params = net->Parameters();
  std::vector<std::vector<float>> grad_sum(params.size());
  Tensor images, logits, dlogits, teacher_logits;
  std::vector<int32_t> labels;
  Clock::time_point last_save = Clock::now();
  Clock::time_point window_start = Clock::now();
  int64_t window_images = 0, window_steps = 0;
  double images_per_second = 0.0, seconds_per_step = 0.0;
  TrainState& st = pos.state;

  while (pos.phase < static_cast<int32_t>(options.phases.size())) {
    const ShrinkPhase& phase = options.phases[pos.phase];
    const int64_t steps = phase_steps[pos.phase];
    const bool elastic = Elastic(phase);
    if (st.step == 0) {
      // Phase start. Everything here is a function of the checkpointed
      // weights, so a run resumed at a phase boundary redoes it exactly.
      if (elastic && options.distill_weight > 0 && !in_place &&
          teacher == nullptr) {
        MCUNAS_ASSIGN_OR_RETURN(teacher, net->Extract(net->Largest()));
      }
      const bool first_expand =
          phase.elastic.expand &&
          (pos.phase == 0 || !options.phases[pos.phase - 1].elastic.expand);
      if (first_expand) net->SortChannelsByImportance();
      if (!whole_run || first_expand) sgd.velocity().clear();
      st.epoch_loss_sum = 0.0;
      st.epoch_correct = 0;
      st.epoch_images = 0;
      log->info(
          "phase {}/{} ({}): {} steps, lr {}, {} subnet(s) per step{}",
          pos.phase + 1, options.phases.size(), phase.name, steps,
          whole_run ? "on the whole run's cosine" : absl::StrCat(phase.lr),
          elastic ? phase.subnets_per_step : 1,
          elastic && (teacher != nullptr ||
                      (in_place && options.distill_weight > 0))
              ? absl::StrCat(", distillation weight ", options.distill_weight,
                             in_place ? " (in place)" : "")
              : "");
    }
    // Per phase: this phase's cosine over its steps; whole run: the first
    // phase's peak and warm-up over all steps, indexed by the global step.
    const ShrinkPhase& lr_phase = whole_run ? options.phases[0] : phase;
    CosineSchedule schedule;
    schedule.base_lr = lr_phase.lr;
    schedule.total_steps = whole_run ? total_steps : steps;
    schedule.warmup_steps = static_cast<int64_t>(
        std::llround(lr_phase.warmup_epochs * steps_per_epoch));
    const int32_t subnets = elastic ? phase.subnets_per_step : 1;

    while (st.step < steps) {
      if (options.max_steps > 0 && st.global_step >= options.max_steps) {
        result.global_step = st.global_step;
        result.train_seconds = st.train_seconds;
        return result;
      }
      const Clock::time_point start = Clock::now();
      st.epoch = static_cast<int32_t>(st.step / steps_per_epoch);
      // Each phase sees its own shuffles: the data epoch is offset by phase.
      train.Fill(pool, int64_t{pos.phase} * 100000 + st.epoch,
                 st.step % steps_per_epoch, options.batch_size, true, &images,
                 &labels);
      const bool distill = elastic && options.distill_weight > 0 &&
                           (in_place || teacher != nullptr);
      if (distill && !in_place) {
        teacher->Forward(pool, images, ForwardMode::kInfer, &teacher_logits);
      }
      std::mt19937_64 rng(Mix(options.seed ^ Mix(st.global_step)));
      double step_loss = 0.0;
      int64_t step_correct = 0;
      for (int32_t j = 0; j < subnets; ++j) {
        // The sandwich's fixed members first, then random subnets.
        ArchSpec arch;
        switch (SlotOf(phase, st.step, j)) {
          case SandwichSlot::kLargest:
            arch = net->Largest();
            break;
          case SandwichSlot::kSmallest:
            arch = SmallestOfPhase(*net, phase.elastic);
            break;
          case SandwichSlot::kRandom:
            arch = net->Sample(phase.elastic, rng);
            break;
        }
        MCUNAS_RETURN_IF_ERROR(net->SetActive(arch));
        net->Forward(pool, images, ForwardMode::kTrain, &logits);
        int64_t correct = 0;
        const double loss =
            SoftmaxCrossEntropy(logits, labels, &dlogits, &correct);
        if (!std::isfinite(loss)) {
          return absl::FailedPreconditionError(
              absl::StrCat("training diverged (loss ", loss, ") in phase ",
                           phase.name, " step ", st.step, " on ",
                           searchspace::CanonicalString(arch), "; lower --lr"));
        }
        // In place, the step's first subnet is the largest (CheckMethod):
        // it learns from the labels and teaches the others.
        if (distill && in_place && j == 0) {
          teacher_logits = logits;
        } else if (distill) {
          DistillationLoss(logits, teacher_logits, options.distill_weight,
                           &dlogits);
        }
        net->Backward(pool, dlogits);
        step_loss += loss;
        step_correct += correct;
        if (subnets > 1) {
          // A share weights each gradient as it is added; mean and sum add
          // them and scale once below, as they always have, so runs of
          // either stay the same bit for bit.
          const float w =
              shares ? LargestShareWeight(options, j, subnets) : 1.0f;
          for (size_t p = 0; p < params.size(); ++p) {
            std::vector<float>& sum = grad_sum[p];
            const std::vector<float>& g = params[p]->grad;
            if (j == 0) sum.assign(g.size(), 0.0f);
            for (size_t i = 0; i < g.size(); ++i) sum[i] += w * g[i];
          }
        }
      }
      if (subnets > 1) {
        const float scale = options.subnet_loss == SubnetLoss::kMean
                                ? 1.0f / static_cast<float>(subnets)
                                : 1.0f;
        for (size_t p = 0; p < params.size(); ++p) {
          std::vector<float>& g = params[p]->grad;
          for (size_t i = 0; i < g.size(); ++i) g[i] = grad_sum[p][i] * scale;
        }
      }
      const float lr = schedule.At(whole_run ? st.global_step : st.step);
      sgd.Step(params, lr);
      const Clock::time_point end = Clock::now();

      ++st.step;
      ++st.global_step;
      st.epoch_loss_sum += step_loss / subnets * labels.size();
      st.epoch_correct += step_correct;
      st.epoch_images += static_cast<int64_t>(labels.size()) * subnets;
      st.train_seconds += Seconds(start, end);
      window_images += static_cast<int64_t>(labels.size());
      ++window_steps;
      const double window = Seconds(window_start, end);
      if (window >= 2.0 || images_per_second == 0.0) {
        images_per_second = window_images / std::max(window, 1e-9);
        seconds_per_step = window / window_steps;
        window_start = end;
        window_images = window_steps = 0;
      }
      if (options.on_progress) {
        ShrinkProgress p;
        p.phase = pos.phase;
        p.phases = static_cast<int32_t>(options.phases.size());
        p.phase_name = phase.name;
        p.step = st.step;
        p.phase_steps = steps;
        p.epoch = static_cast<int32_t>((st.step - 1) / steps_per_epoch);
        p.epochs = static_cast<int32_t>((steps + steps_per_epoch - 1) /
                                        steps_per_epoch);
        p.loss = st.epoch_loss_sum * subnets / st.epoch_images;
        p.accuracy = static_cast<double>(st.epoch_correct) / st.epoch_images;
        p.images_per_second = images_per_second;
        p.seconds_left = (total_steps - st.global_step) * seconds_per_step;
        p.lr = lr;
        options.on_progress(p);
      }
      const bool step_due = options.checkpoint_steps > 0 &&
                            st.global_step % options.checkpoint_steps == 0;
      const bool time_due =
          Seconds(last_save, Clock::now()) >= options.checkpoint_seconds;
      if (st.step < steps && (step_due || time_due)) {
        MCUNAS_RETURN_IF_ERROR(save());
        last_save = Clock::now();
      }
    }

    // Phase end: validate the phase's largest and smallest subnets, then
    // checkpoint the start of the next phase.
    ShrinkProgress p;
    p.phase = pos.phase;
    p.phases = static_cast<int32_t>(options.phases.size());
    p.phase_name = phase.name;
    p.step = p.phase_steps = steps;
    p.phase_end = true;
    if (validation != nullptr && validation->size() > 0) {
      std::vector<ArchSpec> archs = {net->Largest()};
      if (elastic) archs.push_back(SmallestOfPhase(*net, phase.elastic));
      for (const ArchSpec& arch : archs) {
        MCUNAS_ASSIGN_OR_RETURN(
            const EvalResult v,
            EvaluateSubnet(*net, arch, pool, train,
                           options.recalibration_images, *validation,
                           options.validation_images));
        p.validation.push_back(
            {searchspace::CanonicalString(arch), v.accuracy()});
        log->info("phase {} ({}) done: validation {:.2f}% on {} images for {}",
                  pos.phase + 1, phase.name, 100 * v.accuracy(), v.images,
                  searchspace::CanonicalString(arch));
      }
      result.validation = p.validation;
    }
    if (options.on_progress) options.on_progress(p);
    ++pos.phase;
    st.step = 0;
    st.epoch = 0;
    st.epoch_loss_sum = 0.0;
    st.epoch_correct = 0;
    st.epoch_images = 0;
    MCUNAS_RETURN_IF_ERROR(save());
    last_save = Clock::now();
  }
  result.finished = true;
  result.global_step = st.global_step;
  result.train_seconds = st.train_seconds;
  return result;
}

}  // namespace mcunas::supernet
