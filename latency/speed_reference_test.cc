// Scaling wall-clock measurements to a table's reference speed, on the real
// host device: a machine that slows down mid-build must not change the
// figures, and tables measured without (or with another) reference are
// refused rather than mixed.
#include "mcunas/latency/speed_reference.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lut_test_util.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/devices/board_catalog.h"
#include "mcunas/latency/engine_build.h"
#include "mcunas/latency/lut_builder.h"

namespace mcunas::latency {
namespace {

// The real host device, with every latency it reports multiplied by
// `slowdown`: a machine that runs at 1 / slowdown of its speed (as a shared
// machine does when its neighbours get busy). While `recording`, it keeps
// every run's result; `Replay()` then answers the same sequence of runs with
// those results (times `slowdown`) instead of running again, so a test can
// slow "the same" measurement down without the shared machine's own drift
// between two real measurements getting in the way.
class SlowedDevice : public devices::Device {
 public:
  explicit SlowedDevice(std::unique_ptr<devices::Device> inner)
      : inner_(std::move(inner)) {}
  double slowdown = 1;
  bool recording = false;

  void Replay() {
    recording = false;
    replaying_ = true;
    next_ = 0;
  }

  const devices::BoardProfile& profile() const override {
    return inner_->profile();
  }
  absl::Status Prepare() override { return inner_->Prepare(); }
  absl::StatusOr<devices::RunResult> Run(
      const std::vector<uint8_t>& blob, const std::vector<int8_t>& inputs,
      const devices::RunOptions& options) override {
    absl::StatusOr<devices::RunResult> run;
    if (replaying_) {
      if (next_ >= recorded_.size()) {
        return absl::OutOfRangeError("replayed more runs than recorded");
      }
      run = recorded_[next_++];
    } else {
      run = inner_->Run(blob, inputs, options);
      if (run.ok() && recording) recorded_.push_back(*run);
    }
    if (!run.ok()) return run;
    for (double& t : run->latencies) t *= slowdown;
    run->stats = devices::Summarize(run->latencies);
    return run;
  }
  absl::StatusOr<std::vector<double>> ProfileOps(
      const std::vector<uint8_t>& blob, const std::vector<int8_t>& inputs,
      const devices::RunOptions& options) override {
    absl::StatusOr<std::vector<double>> ops =
        inner_->ProfileOps(blob, inputs, options);
    if (!ops.ok()) return ops;
    for (double& t : *ops) t *= slowdown;
    return ops;
  }
  absl::Status Health() override { return inner_->Health(); }
  absl::Status Reset() override { return inner_->Reset(); }

 private:
  std::unique_ptr<devices::Device> inner_;
  std::vector<devices::RunResult> recorded_;
  bool replaying_ = false;
  size_t next_ = 0;
};

struct HostTable {
  std::unique_ptr<SlowedDevice> device;
  std::unique_ptr<LutStore> store;
  LutKey key;
};

HostTable OpenHostTable(const std::string& name) {
  HostTable t;
  const devices::BoardProfile host = CatalogProfile("host");
  auto device = devices::OpenDevice(host, {});
  EXPECT_TRUE(device.ok()) << device.status();
  t.device = std::make_unique<SlowedDevice>(*std::move(device));
  auto store = LutStore::Open(FreshDbPath(name));
  EXPECT_TRUE(store.ok()) << store.status();
  t.store = *std::move(store);
  EXPECT_TRUE(t.store->RegisterBoard(host).ok());
  auto build = EngineBuildId(host, {});
  EXPECT_TRUE(build.ok());
  t.key = LutKey{"host", *build};
  return t;
}

TEST(SpeedReferenceTest, OnlyWallClockBoardsAreScaled) {
  EXPECT_TRUE(UsesSpeedReference(CatalogProfile("host")));
  EXPECT_FALSE(UsesSpeedReference(CatalogProfile("qemu-m4")));
}

// One measurement of a fixed mid-sized architecture on `t`'s device, then
// the same runs replayed four times slower, both scaled by `reference`
// (null: unscaled).
struct NormalAndSlowed {
  ModelMeasurement normal, slowed;
};
absl::StatusOr<NormalAndSlowed> MeasureThenReplaySlowed(
    HostTable& t, const SpeedReference* reference, int32_t repeats) {
  MCUNAS_ASSIGN_OR_RETURN(const searchspace::SearchSpace space,
                          searchspace::SearchSpace::Builtin("fashion_mnist"));
  MCUNAS_ASSIGN_OR_RETURN(
      const searchspace::ArchSpec arch,
      space.Parse("r24-w0.4:k3e1|k3e3,k5e4|k5e4,k3e3|k3e6,k3e3|k5e3,k3e4|"
                  "k3e3,k7e6|k3e6"));
  MeasureOptions options =
      DefaultMeasureOptions(devices::LatencyUnit::kNanoseconds);
  options.repeats = repeats;
  NormalAndSlowed m;
  t.device->recording = true;
  MCUNAS_ASSIGN_OR_RETURN(
      m.normal, MeasureArch(space, arch, *t.device, options, reference));
  t.device->Replay();
  t.device->slowdown = 4;
  MCUNAS_ASSIGN_OR_RETURN(
      m.slowed, MeasureArch(space, arch, *t.device, options, reference));
  return m;
}

TEST(SpeedReferenceTest, AMachineThatSlowsDownMeasuresTheSame) {
  HostTable t = OpenHostTable("slow");
  auto reference = SpeedReference::ForTable(*t.store, t.key, *t.device);
  ASSERT_TRUE(reference.ok()) << reference.status();
  EXPECT_GT((*reference)->nominal(), 0);
  // The same runs (reference timings and model timings alike) on a machine
  // four times slower.
  auto m = MeasureThenReplaySlowed(
      t, reference->get(),
      DefaultMeasureOptions(devices::LatencyUnit::kNanoseconds).repeats);
  ASSERT_TRUE(m.ok()) << m.status();

  // Scaled, the slow machine measures the same; the factor says how much
  // slower it ran, and the raw time (median / speed) is 4x.
  EXPECT_NEAR(m->slowed.median / m->normal.median, 1.0, 1e-9)
      << m->normal.median << " vs " << m->slowed.median;
  EXPECT_NEAR(m->slowed.speed / m->normal.speed, 1 / 4.0, 1e-9);
  EXPECT_NEAR((m->slowed.median / m->slowed.speed) /
                  (m->normal.median / m->normal.speed),
              4.0, 1e-6);
}

TEST(SpeedReferenceTest, UnscaledMeasurementsKeepTheMachinesSpeed) {
  HostTable t = OpenHostTable("raw");
  auto m = MeasureThenReplaySlowed(t, nullptr, 3);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->normal.speed, 1);
  EXPECT_EQ(m->slowed.speed, 1);
  EXPECT_NEAR(m->slowed.median / m->normal.median, 4.0, 1e-9);
}

TEST(SpeedReferenceTest, TheBaselineIsStoredOnceAndReused) {
  HostTable t = OpenHostTable("baseline");
  auto first = SpeedReference::ForTable(*t.store, t.key, *t.device);
  ASSERT_TRUE(first.ok()) << first.status();
  auto stored = t.store->Baseline(t.key);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->reference, (*first)->id());
  EXPECT_EQ((*stored)->nominal, (*first)->nominal());

  // A slower machine later keeps the table's baseline.
  t.device->slowdown = 3;
  auto again = SpeedReference::ForTable(*t.store, t.key, *t.device);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->nominal(), (*first)->nominal());
  EXPECT_FALSE(t.store->PutBaseline(t.key, {"other", 1}).ok());
}

TEST(SpeedReferenceTest, UnscaledOrOtherlyScaledTablesAreRefusedAndKept) {
  {
    HostTable t = OpenHostTable("unscaled");
    OpEntry entry;
    auto signature = ParseSignatureKey("add k0 s0 none 4x4x8>4x4x8 int8");
    ASSERT_TRUE(signature.ok());
    entry.signature = *signature;
    entry.n = 1;
    entry.median = 1234;
    ASSERT_TRUE(t.store->PutOpEntries(t.key, {entry}).ok());
    auto reference = SpeedReference::ForTable(*t.store, t.key, *t.device);
    ASSERT_EQ(reference.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(reference.status().message().find("without a speed reference"),
              std::string::npos)
        << reference.status();
    auto entries = t.store->OpEntries(t.key);
    ASSERT_TRUE(entries.ok());
    ASSERT_EQ(entries->size(), 1u);
    EXPECT_EQ((*entries)[0].median, 1234);
  }
  {
    HostTable t = OpenHostTable("other");
    ASSERT_TRUE(t.store->PutBaseline(t.key, {"r28-w0.5:old@0", 1e6}).ok());
    auto reference = SpeedReference::ForTable(*t.store, t.key, *t.device);
    ASSERT_EQ(reference.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(reference.status().message().find("r28-w0.5:old@0"),
              std::string::npos)
        << reference.status();
  }
}

}  // namespace
}  // namespace mcunas::latency
