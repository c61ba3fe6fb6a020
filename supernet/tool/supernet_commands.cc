// train --supernet: progressive shrinking of an elastic supernet
// (progressive_shrinking.h) with a progress display.
#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/searchspace/search_space.h"
#include "mcunas/supernet/elastic_supernet.h"
#include "mcunas/supernet/ops.h"
#include "mcunas/supernet/progressive_shrinking.h"
#include "tool_util.h"

namespace mcunas::supernet::tool {
namespace {

// Documented in docs/supernet.md ("Supernet schedules"). Phase epochs are
// full, kernel, depth, expand.
struct SupernetSchedule {
  std::vector<double> phase_epochs;
  float lr;
  // Multiplies the elastic phases' peak rates (ProgressiveShrinkingPhases').
  float elastic_lr_scale;
  int32_t subnets_per_step;
  bool with_largest;
  bool with_smallest;
  int64_t validation_images;  // 0: all
  // SGD's, on conv and FC weights. It also sets how far a given lr moves
  // the batch-normalised weights (their norm shrinks with more decay), so
  // the elastic rates are chosen together with it.
  float weight_decay = 4e-5f;
  int32_t smallest_every = 1;  // ShrinkPhase::smallest_every, elastic phases
  LrSpan lr_span = LrSpan::kPerPhase;
  Teacher teacher = Teacher::kFrozenLargest;
  SubnetLoss subnet_loss = SubnetLoss::kMean;
};

SupernetSchedule SupernetScheduleNamed(const std::string& name) {
  // Mostly the full phase, and short elastic phases at a quarter of the
  // usual rates, which barely move the largest subnet: the quick schedule
  // is for demos, and its goal is the largest subnet's accuracy.
  if (name == "quick") {
    return {{2.2, 0.15, 0.15, 0.2}, 0.1f, 0.25f, 3, true, true, 2000};
  }
  // Sized for fashion_mnist_large at R 28 W 0.5 (25 M MACs for the
  // largest) to train in under an hour on a 2-core machine (docs/
  // benchmarks.md). A cosine per phase: the 9-epoch full phase anneals to
  // 0 and hands over a finished largest subnet, frozen as the teacher
  // (OFA's order); short kernel and depth phases, then most of the hour in
  // the expand phase, the only one that trains the smallest. Weight decay
  // 5e-4 (not the static trainer's 4e-5) lifts the full phase's largest by
  // ~0.6 points, and, as it keeps the weights' norms small, makes every lr
  // move them further: at half the usual elastic rates the restart costs
  // the largest less than twice the rates did at 4e-5, and the small
  // subnets gain as much (docs/benchmarks.md compares decays, rates,
  // lengths and the whole-run method).
  return {{9, 0.15, 0.15, 6}, 0.1f, 0.5f, 3, true, true, 0, 5e-4f};
}

absl::StatusOr<searchspace::SearchSpace> LoadSpace(const SupernetFlags& flags,
                                                   const NetFlags& net,
                                                   const Data& data) {
  searchspace::SpaceDef def;
  const std::vector<std::string> builtin =
      searchspace::SearchSpace::BuiltinNames();
  if (std::find(builtin.begin(), builtin.end(), flags.space) != builtin.end()) {
    MCUNAS_ASSIGN_OR_RETURN(searchspace::SearchSpace s,
                            searchspace::SearchSpace::Builtin(flags.space));
    def = s.def();
  } else {
    MCUNAS_ASSIGN_OR_RETURN(def, searchspace::LoadSpaceFile(flags.space));
  }
  // The data decides the classifier and the input; the space its body.
  if (def.classes != data.train.classes ||
      def.input_channels != data.train.channels) {
    Log()->info("space '{}': {} classes and {} input channels from the data",
                def.name, data.train.classes, data.train.channels);
    def.classes = data.train.classes;
    def.input_channels = data.train.channels;
  }
  MCUNAS_ASSIGN_OR_RETURN(searchspace::SearchSpace space,
                          searchspace::SearchSpace::Create(def));
  return space.Restrict(net.resolution,
                        static_cast<int32_t>(std::lround(net.width * 1000)));
}

// The progress line of a supernet's training step.
std::string ProgressText(const ShrinkProgress& p) {
  return absl::StrFormat(
      "phase %d/%d %-6s  epoch %d/%d  step %d/%d  loss %.4f  acc %.2f%%  "
      "%.0f img/s  lr %.4f  left %s",
      p.phase + 1, p.phases, p.phase_name, p.epoch + 1, p.epochs, p.step,
      p.phase_steps, p.loss, 100 * p.accuracy, p.images_per_second, p.lr,
      Duration(p.seconds_left));
}

absl::Status RunSupernetTrain(const TrainFlags& flags) {
  MCUNAS_ASSIGN_OR_RETURN(Data data, LoadData(flags.data));
  MCUNAS_ASSIGN_OR_RETURN(searchspace::SearchSpace space,
                          LoadSpace(flags.supernet, flags.net, data));
  const SupernetSchedule schedule = SupernetScheduleNamed(flags.schedule);
  std::vector<double> epochs = flags.supernet.phase_epochs.empty()
                                   ? schedule.phase_epochs
                                   : flags.supernet.phase_epochs;
  if (epochs.size() != 4) {
    return absl::InvalidArgumentError(
        "--phase-epochs: expected 4 values (full, kernel, depth, expand)");
  }
  ShrinkOptions options;
  options.phases = ProgressiveShrinkingPhases(
      flags.lr > 0 ? flags.lr : schedule.lr, epochs[0], epochs[1], epochs[2],
      epochs[3],
      flags.supernet.subnets_per_step > 0 ? flags.supernet.subnets_per_step
                                          : schedule.subnets_per_step,
      flags.supernet.with_largest >= 0 ? flags.supernet.with_largest != 0
                                       : schedule.with_largest,
      flags.supernet.with_smallest >= 0 ? flags.supernet.with_smallest != 0
                                        : schedule.with_smallest);
  if (flags.warmup_epochs >= 0) {
    options.phases[0].warmup_epochs = flags.warmup_epochs;
  }
  if (flags.supernet.smallest_every > 0 && !options.phases[1].with_smallest) {
    // Otherwise the option would have nothing to act on.
    return absl::InvalidArgumentError(
        "--smallest-every: the sandwich has no smallest subnet (it needs "
        "--with-smallest 1)");
  }
  // One scale for the three elastic phases, or one each (kernel, depth,
  // expand): the kernel phase's restart is what costs the trained largest
  // subnet, the expand phase what trains the small ones.
  std::vector<float> lr_scales = flags.supernet.elastic_lr_scale;
  if (lr_scales.empty()) lr_scales = {schedule.elastic_lr_scale};
  if (lr_scales.size() == 1) lr_scales.assign(3, lr_scales[0]);
  if (lr_scales.size() != options.phases.size() - 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--elastic-lr-scale: expected 1 value or 3 (kernel, depth, expand), "
        "got ",
        lr_scales.size()));
  }
  for (size_t p = 1; p < options.phases.size(); ++p) {
    options.phases[p].lr *= lr_scales[p - 1];
    options.phases[p].smallest_every = flags.supernet.smallest_every > 0
                                           ? flags.supernet.smallest_every
                                           : schedule.smallest_every;
  }
  options.batch_size = flags.batch;
  options.sgd.weight_decay =
      flags.weight_decay >= 0 ? flags.weight_decay : schedule.weight_decay;
  options.distill_weight = flags.supernet.distill;
  const SupernetFlags& f = flags.supernet;
  options.lr_span = f.lr_span.empty()          ? schedule.lr_span
                    : f.lr_span == "whole-run" ? LrSpan::kWholeRun
                                               : LrSpan::kPerPhase;
  options.teacher = f.teacher.empty()         ? schedule.teacher
                    : f.teacher == "in-place" ? Teacher::kInPlace
                                              : Teacher::kFrozenLargest;
  options.subnet_loss = f.subnet_loss.empty()    ? schedule.subnet_loss
                        : f.subnet_loss == "sum" ? SubnetLoss::kSum
                        : f.subnet_loss == "largest-share"
                            ? SubnetLoss::kLargestShare
                            : SubnetLoss::kMean;
  options.largest_share = f.largest_share;
  if (options.lr_span == LrSpan::kWholeRun && !f.elastic_lr_scale.empty()) {
    return absl::InvalidArgumentError(
        "--elastic-lr-scale: with --lr-span whole-run every phase follows "
        "the full phase's cosine (--lr); there are no elastic peak rates");
  }
  options.seed = flags.seed;
  options.checkpoint_path = flags.out;
  options.start_from = f.start_from;
  options.checkpoint_seconds = flags.checkpoint_seconds;
  options.checkpoint_steps = flags.checkpoint_steps;
  options.max_steps = flags.max_steps;
  options.recalibration_images = flags.supernet.recalibrate;
  options.validation_images = flags.supernet.validation_images >= 0
                                  ? flags.supernet.validation_images
                                  : schedule.validation_images;

  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<ElasticSupernet> net,
                          ElasticSupernet::Create(space, flags.seed));
  const MbnetConfig largest = net->config();
  MCUNAS_ASSIGN_OR_RETURN(MbnetConfig smallest,
                          SubnetConfig(space, net->Smallest()));
  int64_t transforms = 0;
  for (Parameter* p : net->Parameters()) {
    if (!p->decay && p->name.find(".dw.k") != std::string::npos) {
      transforms += static_cast<int64_t>(p->value.size());
    }
  }
  Log()->info(
      "supernet over space '{}' at R {} W {}: largest {} ({:.2f} M MACs), "
      "smallest {} ({:.2f} M MACs), {} kernel-transform values",
      space.def().name, flags.net.resolution, flags.net.width,
      searchspace::CanonicalString(net->Largest()), MbnetMacs(largest) / 1e6,
      searchspace::CanonicalString(net->Smallest()), MbnetMacs(smallest) / 1e6,
      transforms);
  Log()->info(
      "schedule: {}; {}; batch {}, wd {}, {} threads, kernels {}, out {}",
      PhasesString(options.phases), MethodString(options), options.batch_size,
      options.sgd.weight_decay, flags.threads, KernelSetName(), flags.out);

  std::vector<int64_t> train_indices = data.split.train;
  if (flags.train_limit > 0 &&
      flags.train_limit < static_cast<int64_t>(train_indices.size())) {
    train_indices.resize(flags.train_limit);
  }
  PipelineOptions train_pipeline = Pipeline(data, flags.net.resolution);
  train_pipeline.augment.pad = flags.pad;
  train_pipeline.augment.horizontal_flip = flags.flip;
  BatchLoader train(&data.train, std::move(train_indices), train_pipeline,
                    flags.seed);
  BatchLoader validation(&data.train, data.split.validation,
                         Pipeline(data, flags.net.resolution), flags.seed);
  ThreadPool pool(flags.threads);
  ProgressLine progress;
  options.on_progress = [&](const ShrinkProgress& p) {
    if (p.phase_end) {
      progress.Clear();  // the trainer logs the phase summary
    } else {
      progress.Show(ProgressText(p));
    }
  };
  MCUNAS_ASSIGN_OR_RETURN(
      ShrinkResult result,
      TrainSupernet(net.get(), pool, train,
                    validation.size() > 0 ? &validation : nullptr, options));
  if (!result.finished) {
    Log()->info("stopped at step {} (--max-steps); run again to continue",
                result.global_step);
    return absl::OkStatus();
  }
  std::vector<std::string> accuracies;
  for (const SubnetAccuracy& a : result.validation) {
    accuracies.push_back(
        absl::StrFormat("%.2f%% %s", 100 * a.accuracy, a.arch));
  }
  Log()->info("finished: {} steps, {} of training; validation {}",
              result.global_step, Duration(result.train_seconds),
              absl::StrJoin(accuracies, ", "));
  return absl::OkStatus();
}

}  // namespace

int SupernetTrainCommand(const TrainFlags& flags) {
  return Exit(RunSupernetTrain(flags));
}

}  // namespace mcunas::supernet::tool
