// Progressive shrinking (Once-for-All): trains an ElasticSupernet in phases
// that make one more dimension elastic each —
//
//   full    the largest subnet alone
//   kernel  + elastic kernel (7 -> 5 -> 3 transforms learn)
//   depth   + elastic depth
//   expand  + elastic expand ratio (middle channels sorted by importance
//           at the start of the phase)
//
// — sampling `subnets_per_step` subnets of the phase per step (OFA's
// dynamic batch; the step's loss is their mean or sum, and optionally the
// sandwich rule fixes the largest and smallest among them) with knowledge
// distillation from the largest subnet: every student loss adds
// distill_weight times the soft-target cross-entropy against the teacher,
// which is either the largest subnet frozen at the start of the first
// elastic phase (OFA) or the largest subnet of the same step (in-place,
// BigNAS). The learning rate either follows a cosine per phase with a
// fresh SGD velocity (OFA's separate runs per phase) or one cosine over the
// whole run (ShrinkOptions::lr_span).
//
// Resuming: when options.checkpoint_path exists, TrainSupernet restores the
// supernet, the optimizer, the teacher and the position (phase, step) and
// continues with the next step; a resumed run computes the same steps as an
// uninterrupted one (data order, augmentation and subnet samples are
// functions of the seed and the position). A checkpoint of another space,
// batch size, schedule or seed is refused.
//
// TrainSupernet uses the caller's pool and supernet; not thread-safe.
#ifndef MCUNAS_SUPERNET_PROGRESSIVE_SHRINKING_H_
#define MCUNAS_SUPERNET_PROGRESSIVE_SHRINKING_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/supernet/data_pipeline.h"
#include "mcunas/supernet/elastic_supernet.h"
#include "mcunas/supernet/optimizer.h"
#include "mcunas/supernet/thread_pool.h"

namespace mcunas::supernet {

struct ShrinkPhase {
  std::string name;  // full | kernel | depth | expand
  Elasticity elastic;
  double epochs =
      1.0;  // may be fractional: steps = round(epochs * steps/epoch)
  float lr = 0.1f;
  double warmup_epochs = 0.0;
  int32_t subnets_per_step = 1;
  // BigNAS's sandwich rule: the first subnet of every step is the largest
  // and (with_smallest) the next the phase's smallest, the others random.
  // It keeps the extremes trained in short schedules, where OFA's long
  // low-lr phases are not affordable; the largest alone is otherwise
  // almost never sampled. subnets_per_step must leave room for a random
  // one for the phase to train anything in between.
  bool with_largest = false;
  bool with_smallest = false;
  // With with_smallest: the smallest takes its slot on every
  // smallest_every-th step of the phase (steps 0, N, 2N, ...) and a random
  // subnet takes it on the others. With 2 subnets per step and 2 here, the
  // steps alternate [largest, smallest] and [largest, random]: cheaper
  // steps than a three-member sandwich, so more of them fit in the hour.
  int32_t smallest_every = 1;
};

// Which subnet fills place `j` of a step of an elastic phase.
enum class SandwichSlot { kLargest, kSmallest, kRandom };
SandwichSlot SlotOf(const ShrinkPhase& phase, int64_t phase_step, int32_t j);

// The four phases (peak lr: full `lr`, kernel 0.4 lr, depth and expand
// 0.25 lr) with the given lengths in epochs.
std::vector<ShrinkPhase> ProgressiveShrinkingPhases(
    float lr, double full_epochs, double kernel_epochs, double depth_epochs,
    double expand_epochs, int32_t subnets_per_step, bool with_largest = false,
    bool with_smallest = false);

// "full 1e lr0.1 w0.5 x1 L0 S0 k0 d0 e0; kernel ..." — identifies a schedule
// in checkpoints (S1/2: the smallest every second step).
std::string PhasesString(const std::vector<ShrinkPhase>& phases);

struct SubnetAccuracy {
  std::string arch;  // canonical ArchSpec
  double accuracy = 0.0;
};

struct ShrinkProgress {
  int32_t phase = 0;  // 0-based, current
  int32_t phases = 0;
  std::string phase_name;
  int64_t step = 0;  // steps done in this phase
  int64_t phase_steps = 0;
  int32_t epoch = 0;  // within the phase, 0-based
  int32_t epochs = 0;
  double loss = 0.0;      // mean hard-label loss of the phase so far
  double accuracy = 0.0;  // training accuracy of the phase so far
  double images_per_second = 0.0;
  double seconds_left = 0.0;  // of all remaining phases
  float lr = 0.0f;
  // The report at a phase end: validation accuracy of the phase's largest
  // and smallest subnet (BN recalibrated), when there is validation data.
  bool phase_end = false;
  std::vector<SubnetAccuracy> validation;
};

// How the learning rate runs across the phases.
enum class LrSpan {
  // Each phase its own cosine from its ShrinkPhase::lr and warm-up, and a
  // fresh SGD velocity: OFA's separate runs per phase. Each elastic phase
  // restarts at a high rate, which costs the already trained largest subnet.
  kPerPhase,
  // One cosine over all steps of all phases, with the first phase's peak
  // and warm-up (later phases' ShrinkPhase::lr is unused), and the velocity
  // carried across phases (cleared only when channels are sorted, as it
  // no longer matches them): a phase start changes what is sampled, not
  // the rate.
  kWholeRun,
};

// Where the soft targets come from.
enum class Teacher {
  // The largest subnet, extracted and frozen at the start of the first
  // elastic phase, run in inference mode on every batch.
  kFrozenLargest,
  // The largest subnet of the same step (the sandwich's first member; its
  // logits before the step's update): no extra forward pass, and a teacher
  // that keeps learning. REQUIRES with_largest in every elastic phase.
  kInPlace,
};

// How a step combines its subnets' losses.
enum class SubnetLoss {
  // The mean: a phase's lr means the same for any subnets_per_step, but
  // the largest subnet moves 1/subnets as far per step as when trained
  // alone.
  kMean,
  // The sum (OFA, BigNAS): each subnet moves as far as alone.
  kSum,
  // Weights that sum to 1 like the mean's, but the largest subnet (the
  // sandwich's first member) gets ShrinkOptions::largest_share of the step
  // and the others the rest equally: the largest keeps more of each step
  // without the sum's larger total step. REQUIRES with_largest in every
  // elastic phase with more than one subnet per step.
  kLargestShare,
};

struct ShrinkOptions {
  std::vector<ShrinkPhase> phases;
  int32_t batch_size = 128;
  SgdOptions sgd;
  // Weight of the distillation loss; 0 turns distillation off.
  float distill_weight = 1.0f;
  LrSpan lr_span = LrSpan::kPerPhase;
  Teacher teacher = Teacher::kFrozenLargest;
  SubnetLoss subnet_loss = SubnetLoss::kMean;
  float largest_share = 0.5f;  // in (0, 1); for SubnetLoss::kLargestShare
  uint64_t seed = 1;
  std::string checkpoint_path;  // empty: no checkpoints
  // When checkpoint_path does not exist yet, begin at the phase boundary
  // saved in this checkpoint of another run — its weights, statistics,
  // velocity and teacher — instead of from scratch: the full phase trained
  // once, several elastic schedules tried from it (OFA starts from a
  // trained full network the same way). Its finished phases must be this
  // schedule's first phases, with the same space, batch and seed, both
  // runs per phase (LrSpan::kPerPhase: a whole-run cosine would make the
  // finished phases' rates depend on the later phases' lengths) and, past
  // the first elastic phase, the same method; the run then computes what
  // an uninterrupted run of this schedule would.
  std::string start_from;
  double checkpoint_seconds = 60.0;
  int64_t checkpoint_steps = 0;
  // Stop (without saving) once this many steps of the whole run are done.
  int64_t max_steps = 0;
  // Phase-end validation: BN recalibration images and validation images
  // (<= 0: all).
  int32_t recalibration_images = 512;
  int64_t validation_images = 0;
  std::function<void(const ShrinkProgress&)> on_progress;
};

// "lr per-phase, teacher frozen, loss mean" (or "loss largest 0.5") —
// identifies the method in
// checkpoints, beside PhasesString.
std::string MethodString(const ShrinkOptions& options);

struct ShrinkResult {
  bool finished = false;
  bool resumed = false;
  bool started_from = false;  // at ShrinkOptions::start_from's boundary
  int64_t resumed_from_step = 0;
  int64_t global_step = 0;
  double train_seconds = 0.0;
  std::vector<SubnetAccuracy> validation;  // of the last phase end
};

// REQUIRES: `train` and `validation` (may be null) outlive the call; `net`
// is freshly created (its weights are replaced when resuming).
absl::StatusOr<ShrinkResult> TrainSupernet(ElasticSupernet* net,
                                           ThreadPool& pool,
                                           const BatchLoader& train,
                                           const BatchLoader* validation,
                                           const ShrinkOptions& options);

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_PROGRESSIVE_SHRINKING_H_
