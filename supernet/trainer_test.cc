#include "mcunas/supernet/trainer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcunas/supernet/checkpoint.h"
#include "mcunas/supernet/evaluate.h"
#include "test_data.h"

namespace mcunas::supernet {
namespace {

using testing::ExpectResumesForThreeSteps;
using ::testing::HasSubstr;
using testing::KillAtCheckpointStep;
using testing::Quadrants;
using testing::Slurp;
using testing::Spawn;
using testing::TempDir;
using testing::WriteIdxDir;

MbnetConfig TinyConfig() {
  MbnetConfig c;
  c.resolution = 8;
  c.input_channels = 1;
  c.stem_channels = 4;
  c.stages = {{4, 1, {{3, 2}}}, {8, 2, {{3, 2}, {5, 2}}}};
  c.head_channels = 16;
  c.classes = 4;
  return c;
}

PipelineOptions Plain() {
  PipelineOptions o;
  o.resolution = 8;
  o.normalization = {{0.3f}, {0.3f}};
  return o;
}

TEST(CheckpointTest, RoundTripsAndDetectsDamage) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Mbnet>> net = Mbnet::Create(TinyConfig(), 1);
  ASSERT_TRUE(net.ok());
  TrainState state;
  state.epochs = 3;
  state.global_step = 17;
  state.epoch_loss_sum = 1.5;
  const std::string path = dir.Path("c.ckpt");
  ASSERT_TRUE(
      WriteCheckpoint(path, MakeCheckpoint(**net, nullptr, state)).ok());
  absl::StatusOr<Checkpoint> read = ReadCheckpoint(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->state.global_step, 17);
  EXPECT_EQ(MbnetConfigString(read->config), MbnetConfigString(TinyConfig()));
  absl::StatusOr<std::unique_ptr<Mbnet>> other = Mbnet::Create(TinyConfig(), 2);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(RestoreCheckpoint(*read, other->get(), nullptr).ok());
  EXPECT_EQ((*other)->Parameters()[0]->value, (*net)->Parameters()[0]->value);

  // Another architecture is refused by name.
  MbnetConfig wider = TinyConfig();
  wider.head_channels = 32;
  absl::StatusOr<std::unique_ptr<Mbnet>> wide = Mbnet::Create(wider, 1);
  ASSERT_TRUE(wide.ok());
  absl::Status s = RestoreCheckpoint(*read, wide->get(), nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("head"));

  // Truncation and bit flips are data loss.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  std::ofstream(dir.Path("cut"), std::ios::binary)
      << bytes.substr(0, bytes.size() - 5);
  EXPECT_EQ(ReadCheckpoint(dir.Path("cut")).status().code(),
            absl::StatusCode::kDataLoss);
  bytes[bytes.size() / 2] ^= 0x10;
  std::ofstream(dir.Path("flip"), std::ios::binary) << bytes;
  EXPECT_THAT(ReadCheckpoint(dir.Path("flip")).status().message(),
              HasSubstr("CRC"));
}

TEST(TrainerTest, LearnsAToyTaskAndExportsToInt8) {
  const Dataset data = Quadrants(256, 1);
  PipelineOptions augmented = Plain();
  augmented.augment.horizontal_flip = false;
  augmented.augment.pad = 1;
  BatchLoader train(&data, AllIndices(data), augmented, 3);
  const Dataset test_data = Quadrants(64, 2);
  BatchLoader test(&test_data, AllIndices(test_data), Plain(), 0);
  absl::StatusOr<std::unique_ptr<Mbnet>> net = Mbnet::Create(TinyConfig(), 4);
  ASSERT_TRUE(net.ok());
  ThreadPool pool(2);
  TrainOptions options;
  options.epochs = 6;
  options.batch_size = 32;
  options.lr = 0.1f;
  int reports = 0;
  options.on_progress = [&](const TrainProgress& p) {
    ++reports;
    EXPECT_GT(p.images_per_second, 0.0);
  };
  absl::StatusOr<TrainResult> result =
      Train(net->get(), pool, train, &test, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->finished);
  EXPECT_EQ(result->global_step, 6 * 8);
  EXPECT_EQ(reports, 6 * 8 + 6);
  const EvalResult f = EvaluateFloat(**net, pool, test, 16);
  EXPECT_EQ(f.images, 64);
  EXPECT_GE(f.accuracy(), 0.9);

  absl::StatusOr<engine::FloatGraph> graph = (*net)->ExportFloatGraph();
  ASSERT_TRUE(graph.ok()) << graph.status();
  absl::StatusOr<std::vector<uint8_t>> blob = ExportInt8(*graph, train, 64);
  ASSERT_TRUE(blob.ok()) << blob.status();
  absl::StatusOr<EvalResult> q = EvaluateInt8(*blob, test, 2);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->images, 64);
  EXPECT_NEAR(q->accuracy(), f.accuracy(), 0.05);
}

// Interrupting after step 5 (checkpoints every 2 steps) and resuming gives
// bit-identical weights to a run that was never interrupted.
TEST(TrainerTest, ResumedRunEqualsUninterruptedRun) {
  TempDir dir;
  const Dataset data = Quadrants(64, 1);
  PipelineOptions augmented = Plain();
  augmented.augment.pad = 1;
  augmented.augment.horizontal_flip = true;
  BatchLoader train(&data, AllIndices(data), augmented, 9);
  ThreadPool pool(2);
  TrainOptions options;
  options.epochs = 2;
  options.batch_size = 16;

  absl::StatusOr<std::unique_ptr<Mbnet>> straight =
      Mbnet::Create(TinyConfig(), 4);
  ASSERT_TRUE(straight.ok());
  ASSERT_TRUE(Train(straight->get(), pool, train, nullptr, options).ok());

  options.checkpoint_path = dir.Path("run.ckpt");
  options.checkpoint_steps = 2;
  options.checkpoint_seconds = 1e9;
  options.max_steps = 5;
  absl::StatusOr<std::unique_ptr<Mbnet>> first = Mbnet::Create(TinyConfig(), 4);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<TrainResult> r1 =
      Train(first->get(), pool, train, nullptr, options);
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_FALSE(r1->finished);
  EXPECT_EQ(r1->global_step, 5);

  options.max_steps = 0;
  // A fresh process would build the net from another seed: the checkpoint
  // must override everything.
  absl::StatusOr<std::unique_ptr<Mbnet>> second =
      Mbnet::Create(TinyConfig(), 77);
  ASSERT_TRUE(second.ok());
  absl::StatusOr<TrainResult> r2 =
      Train(second->get(), pool, train, nullptr, options);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_TRUE(r2->resumed);
  EXPECT_EQ(r2->resumed_from_step, 4);
  EXPECT_TRUE(r2->finished);
  const std::vector<Parameter*> a = (*straight)->Parameters();
  const std::vector<Parameter*> b = (*second)->Parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]->value, b[i]->value) << a[i]->name;
  }
  const std::vector<RunningStats*> sa = (*straight)->BatchNormStats();
  const std::vector<RunningStats*> sb = (*second)->BatchNormStats();
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i]->mean, sb[i]->mean) << sa[i]->name;
  }

  // Different settings are refused rather than silently mixed.
  options.batch_size = 8;
  absl::StatusOr<TrainResult> r3 =
      Train(second->get(), pool, train, nullptr, options);
  EXPECT_EQ(r3.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r3.status().message(), HasSubstr("batch"));
}

// The real tool, killed with SIGKILL mid-epoch, continues from its last
// checkpoint when run again with the same command.
TEST(TrainToolTest, KilledTrainingContinuesFromTheLastCheckpoint) {
  TempDir dir;
  ASSERT_TRUE(WriteIdxDir(dir.path()).ok());
  const std::string ckpt = dir.Path("net.ckpt");
  const std::vector<std::string> args = {MCUNAS_SUPERNET_TOOL,
                                         "train",
                                         "--data",
                                         "idx:" + dir.Path(""),
                                         "--out",
                                         ckpt,
                                         "--width",
                                         "0.25",
                                         "--resolution",
                                         "8",
                                         "--depth",
                                         "1",
                                         "--kernel",
                                         "3",
                                         "--expand",
                                         "2",
                                         "--batch",
                                         "16",
                                         "--epochs",
                                         "1000",
                                         "--threads",
                                         "1",
                                         "--checkpoint-steps",
                                         "1"};
  const pid_t pid = Spawn(args, dir.Path("run1.log"));
  ASSERT_GT(pid, 0);
  // Wait for a checkpoint a few steps in (18 steps make an epoch here, so
  // this is mid-epoch), then kill without warning.
  int status = 0;
  const int64_t seen = KillAtCheckpointStep(pid, ckpt, 5, &status);
  ASSERT_TRUE(WIFSIGNALED(status)) << Slurp(dir.Path("run1.log"));
  ASSERT_GE(seen, 5) << Slurp(dir.Path("run1.log"));
  absl::StatusOr<Checkpoint> killed = ReadCheckpoint(ckpt);
  ASSERT_TRUE(killed.ok()) << killed.status();
  const int64_t at_kill = killed->state.global_step;
  EXPECT_GT(killed->state.step, 0);  // mid-epoch (or the kill missed by luck)

  ASSERT_NO_FATAL_FAILURE(
      ExpectResumesForThreeSteps(args, ckpt, at_kill, dir.Path("run2.log")));
}

}  // namespace
}  // namespace mcunas::supernet
