#include "mcunas/latency/predictor.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mcunas/latency/lut_builder.h"
#include "mcunas/latency/micro_models.h"

namespace mcunas::latency {
namespace {

using searchspace::SearchSpace;

// A synthetic table for one (R, W): every covered signature costs
// 1000 + its output elements.
std::vector<OpEntry> SyntheticTable(const SearchSpace& space) {
  std::vector<OpEntry> entries;
  auto models = CoveringMicroModels(space);
  EXPECT_TRUE(models.ok());
  for (const MicroModel& m : *models) {
    for (const OpSignature& s : m.signatures) {
      OpEntry e;
      e.signature = s;
      e.n = 1;
      e.median = 1000 + static_cast<double>(s.out_h) * s.out_w * s.out_c;
      entries.push_back(e);
    }
  }
  return entries;
}

double SyntheticSum(const searchspace::Network& net) {
  double sum = 0;
  for (const OpSignature& s : SignaturesOf(net)) {
    sum += 1000 + static_cast<double>(s.out_h) * s.out_w * s.out_c;
  }
  return sum;
}

TEST(PredictorTest, SumsEntriesAndFitsTheOverheadExactly) {
  auto full = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(full.ok());
  auto space = full->Restrict(20, 400);
  ASSERT_TRUE(space.ok());
  LatencyPredictor bare(*space, SyntheticTable(*space), Overhead{});
  // Measurements made as sum + 37 per op + 5000.
  std::vector<ModelMeasurement> fits;
  for (const auto& arch : SampleArchs(*space, 12, 3)) {
    auto net = searchspace::BuildNetwork(*space, arch);
    ASSERT_TRUE(net.ok());
    ModelMeasurement m;
    m.arch = CanonicalString(arch);
    m.op_count = static_cast<int32_t>(net->ops.size());
    m.n = 1;
    m.median = SyntheticSum(*net) + 37.0 * net->ops.size() + 5000;
    fits.push_back(m);
  }
  auto overhead = bare.FitOverhead(fits, OverheadForm::kPerOp);
  ASSERT_TRUE(overhead.ok()) << overhead.status();
  EXPECT_NEAR(overhead->per_op, 37.0, 1e-6);
  EXPECT_NEAR(overhead->fixed, 5000.0, 1e-4);
  EXPECT_EQ(overhead->fit_models, 12);

  EXPECT_EQ(overhead->scale, 1.0);

  // Wall clock: measured = 1.05 * sum + 20000, fitted exactly.
  for (ModelMeasurement& m : fits) {
    auto net = searchspace::BuildNetwork(*space, *space->Parse(m.arch));
    ASSERT_TRUE(net.ok());
    m.median = 1.05 * SyntheticSum(*net) + 20000;
  }
  auto scaled = bare.FitOverhead(fits, OverheadForm::kScale);
  ASSERT_TRUE(scaled.ok());
  EXPECT_EQ(scaled->per_op, 0.0);
  EXPECT_NEAR(scaled->scale, 1.05, 1e-9);
  EXPECT_NEAR(scaled->fixed, 20000.0, 1e-3);

  LatencyPredictor fitted(*space, SyntheticTable(*space), *overhead);
  for (const auto& arch : SampleArchs(*space, 20, 11)) {
    auto net = searchspace::BuildNetwork(*space, arch);
    ASSERT_TRUE(net.ok());
    auto predicted = fitted.Predict(arch);
    ASSERT_TRUE(predicted.ok());
    EXPECT_NEAR(*predicted, SyntheticSum(*net) + 37.0 * net->ops.size() + 5000,
                1e-3);
  }
  // As an evaluator's latency function too.
  const searchspace::LatencyFunction f = fitted.Function();
  const auto arch = space->Smallest(20, 400);
  auto via_function = f(arch, searchspace::ArchMetrics{});
  ASSERT_TRUE(via_function.ok());
  EXPECT_EQ(*via_function, *fitted.Predict(arch));
}

TEST(PredictorTest, MissingSignaturesAreListedNeverZero) {
  auto full = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(full.ok());
  auto r20 = full->Restrict(20, 400);
  ASSERT_TRUE(r20.ok());
  LatencyPredictor p(*full, SyntheticTable(*r20), Overhead{});
  // Another resolution: the stem's and later ops' shapes are not there.
  const auto arch = full->Smallest(24, 400);
  auto predicted = p.Predict(arch);
  ASSERT_FALSE(predicted.ok());
  EXPECT_EQ(predicted.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(predicted.status().message().find(
                "conv k3 s2 relu6 24x24x1>12x12x16 int8"),
            std::string::npos)
      << predicted.status();
  EXPECT_NE(predicted.status().message().find(CanonicalString(arch)),
            std::string::npos);
}

TEST(PredictorTest, ATableOfAnotherBuildIsNeverUsed) {
  const std::string path =
      absl::StrCat("/tmp/mcunas_lut_predictor_", ::getpid(), ".db");
  std::remove(path.c_str());
  auto store = LutStore::Open(path);
  ASSERT_TRUE(store.ok());
  devices::BoardProfile board;
  board.name = "qemu-m4";
  board.latency_unit = devices::LatencyUnit::kEmulatedInstructions;
  ASSERT_TRUE((*store)->RegisterBoard(board).ok());
  auto space = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(space.ok());
  auto r20 = space->Restrict(20, 400);
  ASSERT_TRUE(r20.ok());
  ASSERT_TRUE(
      (*store)->PutOpEntries({"qemu-m4", "fw-old"}, SyntheticTable(*r20)).ok());
  auto p = LatencyPredictor::Load(**store, {"qemu-m4", "fw-new"}, *space);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(p.status().message().find("fw-old"), std::string::npos)
      << p.status();
  EXPECT_NE(p.status().message().find("fw-new"), std::string::npos);
  auto other_board =
      LatencyPredictor::Load(**store, {"qemu-m7", "fw-old"}, *space);
  EXPECT_FALSE(other_board.ok());
  auto ok = LatencyPredictor::Load(**store, {"qemu-m4", "fw-old"}, *space);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->Predict(r20->Smallest(20, 400)).ok());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace mcunas::latency
