#include "mcunas/supernet/progressive_shrinking.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcunas/supernet/checkpoint.h"
#include "mcunas/supernet/evaluate.h"
#include "mcunas/supernet/supernet_checkpoint.h"
#include "test_data.h"

namespace mcunas::supernet {
namespace {

namespace fs = std::filesystem;
using searchspace::SearchSpace;
using testing::ExpectResumesForThreeSteps;
using ::testing::HasSubstr;
using testing::KillAtCheckpointStep;
using testing::Quadrants;
using testing::Slurp;
using testing::Spawn;
using testing::TempDir;
using testing::TinySpaceDef;
using testing::WriteIdxDir;

std::unique_ptr<ElasticSupernet> TinySupernet(uint64_t seed) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Create(TinySpaceDef());
  if (!space.ok()) std::abort();
  absl::StatusOr<std::unique_ptr<ElasticSupernet>> net =
      ElasticSupernet::Create(*space, seed);
  if (!net.ok()) std::abort();
  return std::move(*net);
}

PipelineOptions Plain() {
  PipelineOptions o;
  o.resolution = 8;
  o.normalization = {{0.3f}, {0.3f}};
  return o;
}

// Weights, kernel transforms and BN statistics bit for bit.
void ExpectSameWeights(ElasticSupernet& a, ElasticSupernet& b) {
  const std::vector<Parameter*> pa = a.Parameters();
  const std::vector<Parameter*> pb = b.Parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i]->value, pb[i]->value) << pa[i]->name;
  }
  const std::vector<RunningStats*> sa = a.BatchNormStats();
  const std::vector<RunningStats*> sb = b.BatchNormStats();
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i]->mean, sb[i]->mean) << sa[i]->name;
    EXPECT_EQ(sa[i]->var, sb[i]->var) << sa[i]->name;
  }
}

// Over Quadrants(128) in batches of 16 (8 steps per epoch): four phases
// of 4 steps, the sandwich (largest, smallest) plus one random subnet per
// elastic step.
ShrinkOptions FourShortPhases() {
  ShrinkOptions o;
  o.phases =
      ProgressiveShrinkingPhases(0.05f, 0.5, 0.5, 0.5, 0.5, 3, true, true);
  o.batch_size = 16;
  o.seed = 5;
  return o;
}

TEST(ProgressiveShrinkingTest, PhasesTurnOnOneDimensionAfterAnother) {
  const std::vector<ShrinkPhase> p =
      ProgressiveShrinkingPhases(0.1f, 1, 1, 1, 1, 2);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].name, "full");
  EXPECT_FALSE(p[0].elastic.kernel || p[0].elastic.depth ||
               p[0].elastic.expand);
  EXPECT_TRUE(p[1].elastic.kernel && !p[1].elastic.depth);
  EXPECT_TRUE(p[2].elastic.kernel && p[2].elastic.depth &&
              !p[2].elastic.expand);
  EXPECT_TRUE(p[3].elastic.kernel && p[3].elastic.depth && p[3].elastic.expand);
  EXPECT_EQ(p[3].subnets_per_step, 2);
  EXPECT_FALSE(p[3].with_largest);
  const std::vector<ShrinkPhase> q =
      ProgressiveShrinkingPhases(0.1f, 1, 1, 1, 1, 2, true, true);
  EXPECT_FALSE(q[0].with_largest || q[0].with_smallest);
  EXPECT_TRUE(q[1].with_largest && q[2].with_largest && q[3].with_largest);
  EXPECT_TRUE(q[1].with_smallest && q[3].with_smallest);
  EXPECT_NE(PhasesString(p), PhasesString(q));
}

// A run interrupted at a phase boundary (before the teacher exists) and
// again mid-phase, resumed each time in a fresh supernet from another seed,
// ends bit-identical to an uninterrupted run: weights, transforms and BN
// statistics.
TEST(ProgressiveShrinkingTest, ResumedRunEqualsUninterruptedRun) {
  TempDir dir;
  const Dataset data = Quadrants(128, 1);
  PipelineOptions aug = Plain();
  aug.augment.pad = 1;
  aug.augment.horizontal_flip = true;
  BatchLoader train(&data, AllIndices(data), aug, 3);
  ThreadPool pool(2);
  ShrinkOptions options = FourShortPhases();
  options.distill_weight = 0.5f;

  std::unique_ptr<ElasticSupernet> straight = TinySupernet(4);
  absl::StatusOr<ShrinkResult> r0 =
      TrainSupernet(straight.get(), pool, train, nullptr, options);
  ASSERT_TRUE(r0.ok()) << r0.status();
  EXPECT_TRUE(r0->finished);
  EXPECT_EQ(r0->global_step, 16);

  options.checkpoint_path = dir.Path("s.ckpt");
  options.checkpoint_steps = 3;
  options.max_steps = 4;  // stops after phase 1: checkpoint at (phase 2, 0)
  std::unique_ptr<ElasticSupernet> first = TinySupernet(4);
  absl::StatusOr<ShrinkResult> r1 =
      TrainSupernet(first.get(), pool, train, nullptr, options);
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_FALSE(r1->finished);
  absl::StatusOr<Checkpoint> at_boundary = ReadCheckpoint(dir.Path("s.ckpt"));
  ASSERT_TRUE(at_boundary.ok());
  EXPECT_TRUE(at_boundary->extra.empty());  // no teacher yet

  options.max_steps = 10;  // checkpoints at 6, 8 (phase end) and 9
  std::unique_ptr<ElasticSupernet> second = TinySupernet(77);
  absl::StatusOr<ShrinkResult> r2 =
      TrainSupernet(second.get(), pool, train, nullptr, options);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_TRUE(r2->resumed);
  EXPECT_EQ(r2->resumed_from_step, 4);
  absl::StatusOr<Checkpoint> mid = ReadCheckpoint(dir.Path("s.ckpt"));
  ASSERT_TRUE(mid.ok());
  EXPECT_FALSE(mid->extra.empty());  // the teacher travels with it
  absl::StatusOr<SupernetPosition> pos = SupernetPositionOf(*mid);
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ(pos->phase, 2);
  EXPECT_EQ(pos->state.step, 1);

  options.max_steps = 0;
  std::unique_ptr<ElasticSupernet> third = TinySupernet(78);
  absl::StatusOr<ShrinkResult> r3 =
      TrainSupernet(third.get(), pool, train, nullptr, options);
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_EQ(r3->resumed_from_step, 9);
  EXPECT_TRUE(r3->finished);

  ExpectSameWeights(*straight, *third);
  // The transforms did learn (they start as the identity).
  bool moved = false;
  for (Parameter* p : straight->Parameters()) {
    if (p->name.find(".dw.k5to3") != std::string::npos) {
      for (size_t i = 0; i < p->value.size(); ++i) {
        const float identity = i % 10 == 0 ? 1.0f : 0.0f;
        moved = moved || p->value[i] != identity;
      }
    }
  }
  EXPECT_TRUE(moved);

  // Another schedule is refused rather than silently mixed.
  options.phases[1].epochs = 1.0;
  std::unique_ptr<ElasticSupernet> fourth = TinySupernet(1);
  absl::StatusOr<ShrinkResult> r4 =
      TrainSupernet(fourth.get(), pool, train, nullptr, options);
  EXPECT_EQ(r4.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r4.status().message(), HasSubstr("schedule"));
}

// A run that starts at another run's phase boundary with other elastic
// phases computes what an uninterrupted run of its own schedule does; a
// checkpoint that is mid-phase, of other finished phases or of the
// whole-run method is refused.
TEST(ProgressiveShrinkingTest, StartsFromAnotherRunsPhaseBoundary) {
  TempDir dir;
  const Dataset data = Quadrants(128, 1);
  BatchLoader train(&data, AllIndices(data), Plain(), 3);
  ThreadPool pool(2);
  ShrinkOptions first = FourShortPhases();
  first.distill_weight = 0.5f;
  first.checkpoint_path = dir.Path("full.ckpt");
  first.max_steps = 4;  // the full phase: a checkpoint at (phase 2, step 0)
  std::unique_ptr<ElasticSupernet> full = TinySupernet(4);
  ASSERT_TRUE(TrainSupernet(full.get(), pool, train, nullptr, first).ok());

  // Same full phase, other elastic phases: 2, 2 and 8 steps at half rate.
  ShrinkOptions second = first;
  second.phases =
      ProgressiveShrinkingPhases(0.05f, 0.5, 0.25, 0.25, 1.0, 3, true, true);
  for (size_t p = 1; p < second.phases.size(); ++p) second.phases[p].lr /= 2;
  second.checkpoint_path.clear();
  second.max_steps = 0;
  std::unique_ptr<ElasticSupernet> straight = TinySupernet(4);
  absl::StatusOr<ShrinkResult> r0 =
      TrainSupernet(straight.get(), pool, train, nullptr, second);
  ASSERT_TRUE(r0.ok()) << r0.status();
  EXPECT_FALSE(r0->started_from);

  second.start_from = dir.Path("full.ckpt");
  second.checkpoint_path = dir.Path("elastic.ckpt");
  std::unique_ptr<ElasticSupernet> started = TinySupernet(77);
  absl::StatusOr<ShrinkResult> r1 =
      TrainSupernet(started.get(), pool, train, nullptr, second);
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_TRUE(r1->started_from);
  EXPECT_TRUE(r1->finished);
  EXPECT_EQ(r1->global_step, 16);
  ExpectSameWeights(*straight, *started);
  absl::StatusOr<Checkpoint> end = ReadCheckpoint(dir.Path("elastic.ckpt"));
  ASSERT_TRUE(end.ok());
  absl::StatusOr<SupernetPosition> pos = SupernetPositionOf(*end);
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ(pos->phases, PhasesString(second.phases));

  auto refusal = [&](const ShrinkOptions& o) {
    std::unique_ptr<ElasticSupernet> net = TinySupernet(1);
    absl::StatusOr<ShrinkResult> r =
        TrainSupernet(net.get(), pool, train, nullptr, o);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  second.checkpoint_path = dir.Path("refused.ckpt");
  ShrinkOptions other_full = second;
  other_full.phases[0].epochs = 1.0;
  EXPECT_THAT(refusal(other_full), HasSubstr("finished phases"));
  ShrinkOptions whole_run = second;
  whole_run.lr_span = LrSpan::kWholeRun;
  EXPECT_THAT(refusal(whole_run), HasSubstr("--lr-span per-phase"));

  first.checkpoint_path = dir.Path("mid.ckpt");
  first.checkpoint_steps = 3;
  first.max_steps = 7;  // the last checkpoint at 6: phase 2, step 2
  std::unique_ptr<ElasticSupernet> mid = TinySupernet(4);
  ASSERT_TRUE(TrainSupernet(mid.get(), pool, train, nullptr, first).ok());
  ShrinkOptions from_mid = second;
  from_mid.start_from = dir.Path("mid.ckpt");
  EXPECT_THAT(refusal(from_mid), HasSubstr("phase 2 step 2"));
  EXPECT_FALSE(fs::exists(dir.Path("refused.ckpt")));
}

// The whole-run method (one cosine, in-place teacher, summed losses): the
// rate runs on across phase starts instead of restarting, nothing but the
// weights travels in the checkpoint, a resumed run equals an uninterrupted
// one, and a checkpoint of the other method is refused.
TEST(ProgressiveShrinkingTest, WholeRunMethodKeepsTheRateAndResumes) {
  TempDir dir;
  const Dataset data = Quadrants(128, 1);
  BatchLoader train(&data, AllIndices(data), Plain(), 3);
  ThreadPool pool(2);
  ShrinkOptions options = FourShortPhases();  // 16 steps in all
  options.phases[0].warmup_epochs = 0.25;  // 2 steps
  options.lr_span = LrSpan::kWholeRun;
  options.teacher = Teacher::kInPlace;
  options.subnet_loss = SubnetLoss::kSum;
  std::vector<float> rates;
  options.on_progress = [&](const ShrinkProgress& p) {
    if (!p.phase_end) rates.push_back(p.lr);
  };

  std::unique_ptr<ElasticSupernet> straight = TinySupernet(4);
  absl::StatusOr<ShrinkResult> r0 =
      TrainSupernet(straight.get(), pool, train, nullptr, options);
  ASSERT_TRUE(r0.ok()) << r0.status();
  CosineSchedule one_cosine;
  one_cosine.base_lr = 0.05f;
  one_cosine.warmup_steps = 2;
  one_cosine.total_steps = 16;
  ASSERT_EQ(rates.size(), 16u);
  for (int64_t g = 0; g < 16; ++g) {
    EXPECT_EQ(rates[g], one_cosine.At(g)) << "global step " << g;
  }
  EXPECT_LT(rates[4], rates[3]);  // the kernel phase does not restart it

  // The in-place teacher's soft targets reach the students.
  ShrinkOptions undistilled = options;
  undistilled.distill_weight = 0.0f;
  std::unique_ptr<ElasticSupernet> plain = TinySupernet(4);
  ASSERT_TRUE(
      TrainSupernet(plain.get(), pool, train, nullptr, undistilled).ok());
  EXPECT_NE(plain->Parameters()[0]->value, straight->Parameters()[0]->value);

  options.on_progress = nullptr;
  options.checkpoint_path = dir.Path("s.ckpt");
  options.checkpoint_steps = 3;
  options.max_steps = 7;  // the last checkpoint is mid kernel phase, at 6
  std::unique_ptr<ElasticSupernet> first = TinySupernet(4);
  ASSERT_TRUE(TrainSupernet(first.get(), pool, train, nullptr, options).ok());
  options.max_steps = 0;
  std::unique_ptr<ElasticSupernet> second = TinySupernet(77);
  absl::StatusOr<ShrinkResult> r2 =
      TrainSupernet(second.get(), pool, train, nullptr, options);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->resumed_from_step, 6);
  EXPECT_TRUE(r2->finished);
  ExpectSameWeights(*straight, *second);
  absl::StatusOr<Checkpoint> end = ReadCheckpoint(dir.Path("s.ckpt"));
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->extra.empty());  // no frozen teacher to carry
  EXPECT_EQ(end->Metadata("method"),
            "lr whole-run, teacher in-place, loss sum");

  options.lr_span = LrSpan::kPerPhase;
  std::unique_ptr<ElasticSupernet> third = TinySupernet(1);
  absl::StatusOr<ShrinkResult> r3 =
      TrainSupernet(third.get(), pool, train, nullptr, options);
  EXPECT_EQ(r3.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r3.status().message(), HasSubstr("method"));
}

// 64 Quadrants images in batches of 16, and a fresh TinySupernet(4)
// trained on them per Run.
struct TinyTraining {
  Dataset data = Quadrants(64, 1);
  BatchLoader train{&data, AllIndices(data), Plain(), 3};
  ThreadPool pool{2};

  std::unique_ptr<ElasticSupernet> Run(const ShrinkOptions& options) {
    std::unique_ptr<ElasticSupernet> net = TinySupernet(4);
    absl::StatusOr<ShrinkResult> r =
        TrainSupernet(net.get(), pool, train, nullptr, options);
    EXPECT_TRUE(r.ok()) << r.status();
    return net;
  }
};

TEST(ProgressiveShrinkingTest, InPlaceDistillationNeedsTheLargestEveryStep) {
  const Dataset data = Quadrants(32, 1);
  BatchLoader train(&data, AllIndices(data), Plain(), 3);
  ThreadPool pool(1);
  ShrinkOptions options;
  options.phases = ProgressiveShrinkingPhases(0.05f, 0.5, 0.5, 0.5, 0.5, 2,
                                              /*with_largest=*/false, true);
  options.batch_size = 16;
  options.teacher = Teacher::kInPlace;
  std::unique_ptr<ElasticSupernet> net = TinySupernet(4);
  absl::StatusOr<ShrinkResult> r =
      TrainSupernet(net.get(), pool, train, nullptr, options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("in-place distillation"));
}

// A share of 1/3 for the largest of three subnets is the mean, up to
// rounding; a share of 1/2 moves the weights elsewhere; a share outside
// (0, 1) or without the largest in every step is refused.
TEST(ProgressiveShrinkingTest, LargestShareWeightsTheLargestSubnetsLoss) {
  TinyTraining tiny;
  ShrinkOptions options;
  options.phases =
      ProgressiveShrinkingPhases(0.05f, 0.5, 0.5, 0.5, 0.5, 3, true, true);
  options.batch_size = 16;
  auto max_difference = [](ElasticSupernet& a, ElasticSupernet& b) {
    float most = 0.0f;
    const std::vector<Parameter*> pa = a.Parameters();
    const std::vector<Parameter*> pb = b.Parameters();
    for (size_t p = 0; p < pa.size(); ++p) {
      for (size_t i = 0; i < pa[p]->value.size(); ++i) {
        most = std::max(most, std::abs(pa[p]->value[i] - pb[p]->value[i]));
      }
    }
    return most;
  };
  std::unique_ptr<ElasticSupernet> mean = tiny.Run(options);
  options.subnet_loss = SubnetLoss::kLargestShare;
  options.largest_share = 1.0f / 3.0f;
  std::unique_ptr<ElasticSupernet> third = tiny.Run(options);
  options.largest_share = 0.5f;
  std::unique_ptr<ElasticSupernet> half = tiny.Run(options);
  EXPECT_LT(max_difference(*mean, *third), 1e-5f);
  EXPECT_GT(max_difference(*mean, *half), 1e-3f);
  // Nearly all of the step to the largest is nearly training it alone:
  // the share goes to the sandwich's largest, not another member.
  options.largest_share = 0.99999f;
  std::unique_ptr<ElasticSupernet> nearly_alone = tiny.Run(options);
  ShrinkOptions largest_only = options;
  largest_only.subnet_loss = SubnetLoss::kMean;
  for (ShrinkPhase& p : largest_only.phases) p.subnets_per_step = 1;
  std::unique_ptr<ElasticSupernet> alone = tiny.Run(largest_only);
  EXPECT_LT(max_difference(*alone, *nearly_alone), 1e-4f);
  EXPECT_GT(max_difference(*alone, *half), 1e-3f);
  options.largest_share = 0.5f;
  EXPECT_EQ(MethodString(options),
            "lr per-phase, teacher frozen, loss largest 0.5");

  options.largest_share = 1.5f;
  std::unique_ptr<ElasticSupernet> net = TinySupernet(4);
  absl::StatusOr<ShrinkResult> r =
      TrainSupernet(net.get(), tiny.pool, tiny.train, nullptr, options);
  EXPECT_THAT(r.status().message(), HasSubstr("loss share 1.5"));
  options.largest_share = 0.5f;
  options.phases[2].with_largest = false;
  r = TrainSupernet(net.get(), tiny.pool, tiny.train, nullptr, options);
  EXPECT_THAT(r.status().message(), HasSubstr("phase depth"));
}

// --smallest-every: the sandwich's smallest on steps 0, N, 2N, ... of a
// phase and a random subnet in its place between; every step for N = 1;
// the full phase always the largest. The schedule string tells them apart
// (and keeps N = 1's as it was), and training follows the rule.
TEST(ProgressiveShrinkingTest, SmallestEveryNthStepAlternatesWithRandom) {
  std::vector<ShrinkPhase> phases =
      ProgressiveShrinkingPhases(0.05f, 0.5, 0.5, 0.5, 0.5, 2, true, true);
  const ShrinkPhase every_step = phases[3];
  for (size_t p = 1; p < phases.size(); ++p) phases[p].smallest_every = 2;
  const ShrinkPhase& every_second = phases[3];
  for (int64_t step = 0; step < 4; ++step) {
    EXPECT_EQ(SlotOf(phases[0], step, 0), SandwichSlot::kLargest);
    EXPECT_EQ(SlotOf(every_second, step, 0), SandwichSlot::kLargest);
    EXPECT_EQ(SlotOf(every_step, step, 1), SandwichSlot::kSmallest);
    EXPECT_EQ(SlotOf(every_second, step, 1),
              step % 2 == 0 ? SandwichSlot::kSmallest : SandwichSlot::kRandom);
  }
  ShrinkPhase no_largest = every_second;
  no_largest.with_largest = false;
  EXPECT_EQ(SlotOf(no_largest, 4, 0), SandwichSlot::kSmallest);
  EXPECT_EQ(SlotOf(no_largest, 5, 0), SandwichSlot::kRandom);
  EXPECT_EQ(SlotOf(no_largest, 4, 1), SandwichSlot::kRandom);
  EXPECT_THAT(PhasesString({every_step}), HasSubstr(" S1 k1"));
  EXPECT_THAT(PhasesString({every_second}), HasSubstr(" S1/2 k1"));

  TinyTraining tiny;
  ShrinkOptions options;
  options.phases = phases;
  options.batch_size = 16;
  std::unique_ptr<ElasticSupernet> alternating = tiny.Run(options);
  std::unique_ptr<ElasticSupernet> again = tiny.Run(options);
  ExpectSameWeights(*alternating, *again);
  ShrinkOptions always = options;
  for (ShrinkPhase& p : always.phases) p.smallest_every = 1;
  std::unique_ptr<ElasticSupernet> sandwich = tiny.Run(always);
  EXPECT_NE(alternating->Parameters()[0]->value,
            sandwich->Parameters()[0]->value);

  options.phases[2].smallest_every = 0;
  std::unique_ptr<ElasticSupernet> net = TinySupernet(4);
  absl::StatusOr<ShrinkResult> r =
      TrainSupernet(net.get(), tiny.pool, tiny.train, nullptr, options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("smallest_every"));
}

// After progressive shrinking on an easy task, the largest and the smallest
// subnet, extracted and BN-recalibrated, classify held-out images, in float
// and as int8 models on the engine; the checkpoint reproduces the supernet.
TEST(ProgressiveShrinkingTest, SubnetsLearnAndExportToInt8) {
  TempDir dir;
  const Dataset data = Quadrants(512, 1);
  const Dataset held_out = Quadrants(128, 9);
  BatchLoader train(&data, AllIndices(data), Plain(), 3);
  BatchLoader test(&held_out, AllIndices(held_out), Plain(), 0);
  ThreadPool pool(2);
  ShrinkOptions options;
  options.phases = ProgressiveShrinkingPhases(0.1f, 3, 1, 1, 2, 2);
  options.batch_size = 32;
  options.checkpoint_path = dir.Path("s.ckpt");
  options.recalibration_images = 128;
  std::unique_ptr<ElasticSupernet> net = TinySupernet(2);
  absl::StatusOr<ShrinkResult> r =
      TrainSupernet(net.get(), pool, train, &test, options);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->validation.size(), 2u);

  absl::StatusOr<Checkpoint> ckpt = ReadCheckpoint(dir.Path("s.ckpt"));
  ASSERT_TRUE(ckpt.ok());
  absl::StatusOr<std::unique_ptr<ElasticSupernet>> loaded =
      SupernetFromCheckpoint(*ckpt, "s.ckpt");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  for (const searchspace::ArchSpec& arch : {net->Largest(), net->Smallest()}) {
    absl::StatusOr<std::unique_ptr<Mbnet>> sub = (*loaded)->Extract(arch);
    ASSERT_TRUE(sub.ok());
    RecalibrateBatchNorm(**sub, pool, train, 128);
    const EvalResult f = EvaluateFloat(**sub, pool, test, 64);
    EXPECT_GE(f.accuracy(), 0.9) << searchspace::CanonicalString(arch);
    absl::StatusOr<engine::FloatGraph> graph = (*sub)->ExportFloatGraph();
    ASSERT_TRUE(graph.ok());
    absl::StatusOr<std::vector<uint8_t>> blob = ExportInt8(*graph, train, 64);
    ASSERT_TRUE(blob.ok()) << blob.status();
    absl::StatusOr<EvalResult> q = EvaluateInt8(*blob, test, 2);
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_GE(q->accuracy(), 0.9) << searchspace::CanonicalString(arch);
    EXPECT_NEAR(q->accuracy(), f.accuracy(), 0.05);
  }
}

// Writes the test data and the tiny space (tiny.json) into `dir`.
void WriteTinySupernetData(const TempDir& dir) {
  ASSERT_TRUE(WriteIdxDir(dir.path()).ok());
  absl::StatusOr<SearchSpace> space = SearchSpace::Create(TinySpaceDef());
  ASSERT_TRUE(space.ok());
  std::ofstream(dir.Path("tiny.json")) << SpaceDefJson(space->def());
}

// The tool's `train --supernet` command on WriteTinySupernetData's files,
// writing `ckpt`, for the caller to append its flags to.
std::vector<std::string> TinySupernetTrainArgs(const TempDir& dir,
                                               const std::string& ckpt) {
  return {MCUNAS_SUPERNET_TOOL,
          "train",
          "--supernet",
          "--data",
          "idx:" + dir.Path(""),
          "--space",
          dir.Path("tiny.json"),
          "--resolution",
          "8",
          "--width",
          "1.0",
          "--out",
          ckpt,
          "--batch",
          "16",
          "--threads",
          "1"};
}

// The real tool training a supernet, killed with SIGKILL mid-phase,
// continues from its last checkpoint when run again with the same command;
// then `eval --arch` extracts a subnet of it and runs it in float and int8.
TEST(SupernetToolTest, KilledTrainingContinuesAndSubnetsEvaluate) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteTinySupernetData(dir));
  const std::string ckpt = dir.Path("supernet.ckpt");
  std::vector<std::string> args = TinySupernetTrainArgs(dir, ckpt);
  args.insert(args.end(), {"--phase-epochs", "1,1,1,200", "--val-images", "32",
                           "--recalibrate", "64", "--checkpoint-steps", "1"});
  const pid_t pid = Spawn(args, dir.Path("run1.log"));
  ASSERT_GT(pid, 0);
  // 18 steps make an epoch here: wait until the expand phase (global step
  // 54 on) is a few steps in, then kill without warning.
  int status = 0;
  const int64_t seen = KillAtCheckpointStep(pid, ckpt, 58, &status);
  ASSERT_TRUE(WIFSIGNALED(status)) << Slurp(dir.Path("run1.log"));
  ASSERT_GE(seen, 58) << Slurp(dir.Path("run1.log"));
  absl::StatusOr<Checkpoint> killed = ReadCheckpoint(ckpt);
  ASSERT_TRUE(killed.ok()) << killed.status();
  absl::StatusOr<SupernetPosition> pos = SupernetPositionOf(*killed);
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ(pos->phase, 3);
  EXPECT_GT(pos->state.step, 0);
  const int64_t at_kill = pos->state.global_step;

  ASSERT_NO_FATAL_FAILURE(
      ExpectResumesForThreeSteps(args, ckpt, at_kill, dir.Path("run2.log")));

  const pid_t pid3 =
      Spawn({MCUNAS_SUPERNET_TOOL, "eval", "--data", "idx:" + dir.Path(""),
             "--checkpoint", ckpt, "--arch", "r8-w1.0:k3e1|k5e2", "--int8",
             "--threads", "1", "--calibration", "32", "--recalibrate", "64"},
            dir.Path("eval.log"), dir.Path("eval.out"));
  ASSERT_GT(pid3, 0);
  waitpid(pid3, &status, 0);
  const std::string out = Slurp(dir.Path("eval.out"));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << Slurp(dir.Path("eval.log"));
  EXPECT_THAT(out, HasSubstr("float: "));
  EXPECT_THAT(out, HasSubstr("int8:  "));
  EXPECT_THAT(Slurp(dir.Path("eval.log")), HasSubstr("r8-w1.0:k3e1|k5e2"));

  // The predictor measures subnets (reused when run again), trains and
  // reports its held-out RMSE.
  const std::vector<std::string> predictor = {
      MCUNAS_SUPERNET_TOOL, "predictor", "--data", "idx:" + dir.Path(""),
      "--checkpoint", ckpt, "--samples", dir.Path("subnets.csv"), "--out",
      dir.Path("predictor.bin"), "--subnets", "12", "--held-out", "4",
      "--val-images", "32", "--recalibrate", "32", "--epochs", "50",
      "--threads", "1"};
  for (int run = 0; run < 2; ++run) {
    std::vector<std::string> run_args = predictor;
    if (run == 1) run_args.push_back("--rotate");
    const pid_t p =
        Spawn(run_args, dir.Path("predictor.log"), dir.Path("predictor.out"));
    ASSERT_GT(p, 0);
    waitpid(p, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << Slurp(dir.Path("predictor.log"));
    EXPECT_THAT(Slurp(dir.Path("predictor.out")),
                HasSubstr("on 4 held-out subnets"));
  }
  EXPECT_THAT(Slurp(dir.Path("predictor.log")),
              HasSubstr("12 already measured"));
  // --rotate held out each block of 4 in turn.
  const std::string rotated = Slurp(dir.Path("predictor.out"));
  EXPECT_THAT(rotated, HasSubstr("held out subnets 1-4: RMSE"));
  EXPECT_THAT(rotated, HasSubstr("held out subnets 9-12: RMSE"));
  EXPECT_THAT(rotated, HasSubstr("pooled over all 12 subnets"));
  // Its weight decay was cross-validated on the 8 training subnets.
  EXPECT_THAT(Slurp(dir.Path("predictor.log")),
              HasSubstr("5-fold cross-validated RMSE"));
  EXPECT_TRUE(fs::exists(dir.Path("predictor.bin")));

  // An arch outside the space is a clear error.
  const pid_t pid4 =
      Spawn({MCUNAS_SUPERNET_TOOL, "eval", "--data", "idx:" + dir.Path(""),
             "--checkpoint", ckpt, "--arch", "r8-w1.0:k3e1|k7e2"},
            dir.Path("bad.log"));
  waitpid(pid4, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
  EXPECT_THAT(Slurp(dir.Path("bad.log")), HasSubstr("kernel"));
}

// --elastic-lr-scale takes one scale for the three elastic phases or one
// each; the schedule line of the log shows the peak rates it set (at lr
// 0.1: kernel 0.04, depth and expand 0.025 before scaling). Any other
// count is refused by name.
TEST(SupernetToolTest, ElasticRateScalesApplyPerPhase) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteTinySupernetData(dir));
  auto run = [&](const std::string& scales, const std::string& log) {
    std::vector<std::string> args =
        TinySupernetTrainArgs(dir, dir.Path(log + ".ckpt"));
    args.insert(args.end(),
                {"--max-steps", "1", "--lr", "0.1", "--phase-epochs", "1,1,1,1",
                 "--elastic-lr-scale", scales});
    const pid_t pid = Spawn(args, dir.Path(log));
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  ASSERT_EQ(run("0.5,0.25,2", "three.log"), 0) << Slurp(dir.Path("three.log"));
  const std::string three = Slurp(dir.Path("three.log"));
  EXPECT_THAT(three, HasSubstr("kernel 1e lr0.02 "));
  EXPECT_THAT(three, HasSubstr("depth 1e lr0.00625 "));
  EXPECT_THAT(three, HasSubstr("expand 1e lr0.05 "));
  ASSERT_EQ(run("2", "one.log"), 0) << Slurp(dir.Path("one.log"));
  const std::string one = Slurp(dir.Path("one.log"));
  EXPECT_THAT(one, HasSubstr("kernel 1e lr0.08 "));
  EXPECT_THAT(one, HasSubstr("expand 1e lr0.05 "));
  EXPECT_EQ(run("0.5,0.5", "two.log"), 1);
  EXPECT_THAT(Slurp(dir.Path("two.log")),
              HasSubstr("--elastic-lr-scale: expected 1 value or 3"));
}

}  // namespace
}  // namespace mcunas::supernet
