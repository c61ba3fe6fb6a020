#include "mcunas/searchspace/tinynas.h"

#include "gtest/gtest.h"

namespace mcunas::searchspace {
namespace {

TEST(TinyNasTest, UnconstrainedPicksTheLargestSpace) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(space.ok());
  ArchEvaluator evaluator(*space, {});
  absl::StatusOr<SpaceSelection> sel =
      SelectSpace(&evaluator, {.samples = 50, .seed = 1});
  ASSERT_TRUE(sel.ok()) << sel.status();
  ASSERT_EQ(sel->candidates.size(), 5u * 8u);
  const SpaceCandidate& best = sel->candidates[sel->best];
  EXPECT_EQ(best.resolution, 32);
  EXPECT_EQ(best.width_milli, 1000);
  EXPECT_EQ(best.feasible_fraction, 1.0);
}

TEST(TinyNasTest, ChoosesLargestMeanMacsUnderTheBudget) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin("mcunet");
  ASSERT_TRUE(space.ok());
  ArchEvaluator evaluator(
      *space, {.max_sram_bytes = 320 << 10, .max_flash_bytes = 1 << 20});
  absl::StatusOr<SpaceSelection> sel =
      SelectSpace(&evaluator, {.samples = 100, .seed = 2});
  ASSERT_TRUE(sel.ok()) << sel.status();
  const SpaceCandidate& best = sel->candidates[sel->best];
  for (const SpaceCandidate& c : sel->candidates) {
    EXPECT_LE(c.mean_macs, best.mean_macs);
    EXPECT_EQ(c.feasible, static_cast<int32_t>(c.feasible_macs.size()));
    if (c.feasible > 0) {
      EXPECT_LE(c.MacsQuantile(0.1), c.MacsQuantile(0.9));
    }
  }
  // The budget binds: the largest (W, R) is not always feasible.
  EXPECT_LT(sel->candidates.back().feasible_fraction, 1.0);
  const std::string table = FormatSelection(*sel);
  EXPECT_NE(table.find("*"), std::string::npos);
  std::printf("%s", table.c_str());
}

TEST(TinyNasTest, NothingFeasibleIsAClearError) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(space.ok());
  ArchEvaluator evaluator(*space, {.max_flash_bytes = 4 << 10});
  absl::StatusOr<SpaceSelection> sel =
      SelectSpace(&evaluator, {.samples = 10, .seed = 1});
  ASSERT_FALSE(sel.ok());
  EXPECT_NE(sel.status().message().find("flash <= 4.0 KiB is unreachable"),
            std::string::npos)
      << sel.status();
}

}  // namespace
}  // namespace mcunas::searchspace
