#include "mcunas/searchspace/pareto.h"

#include <cmath>

#include "gtest/gtest.h"
#include "rng.h"

namespace mcunas::searchspace {
namespace {

TEST(ParetoTest, NonDominatedSortFindsFronts) {
  const std::vector<Point> points = {{1, 5}, {2, 2}, {5, 1}, {3, 3},
                                     {4, 4}, {2, 2}, {6, 6}};
  const std::vector<std::vector<int32_t>> fronts = NonDominatedSort(points);
  ASSERT_EQ(fronts.size(), 4u);
  EXPECT_EQ(fronts[0], (std::vector<int32_t>{0, 1, 2, 5}));
  EXPECT_EQ(fronts[1], (std::vector<int32_t>{3}));
  EXPECT_EQ(fronts[2], (std::vector<int32_t>{4}));
  EXPECT_EQ(fronts[3], (std::vector<int32_t>{6}));
}

TEST(ParetoTest, CrowdingPrefersExtremesAndSparseRegions) {
  const std::vector<Point> points = {{0, 10}, {1, 9}, {1.1, 8.9}, {10, 0}};
  const std::vector<double> d = CrowdingDistance(points, {0, 1, 2, 3});
  EXPECT_TRUE(std::isinf(d[0]));
  EXPECT_TRUE(std::isinf(d[3]));
  EXPECT_LT(d[1], d[2]);  // 1 is squeezed between 0 and 2
  const std::vector<int32_t> chosen = SelectByRankAndCrowding(points, 3);
  EXPECT_EQ(chosen, (std::vector<int32_t>{0, 3, 2}));
}

TEST(ParetoTest, HypervolumeOfBoxes) {
  // One point: the box to the reference.
  EXPECT_DOUBLE_EQ(Hypervolume({{1, 1}}, {3, 3}), 4.0);
  // Two points in 2-D: union of two boxes, 2*1 + 1*2 - 1*1... by hand:
  // (1,2)-(3,3): 2, (2,1)-(3,3): 2, overlap (2,2)-(3,3): 1 -> 3.
  EXPECT_DOUBLE_EQ(Hypervolume({{1, 2}, {2, 1}}, {3, 3}), 3.0);
  // Dominated and outside points add nothing.
  EXPECT_DOUBLE_EQ(Hypervolume({{1, 2}, {2, 1}, {2, 2.5}, {4, 0}}, {3, 3}),
                   3.0);
  // 3-D and 4-D single boxes.
  EXPECT_DOUBLE_EQ(Hypervolume({{0, 0, 0}}, {1, 2, 3}), 6.0);
  EXPECT_DOUBLE_EQ(Hypervolume({{0, 0, 0, 0}}, {1, 2, 3, 4}), 24.0);
  // Two 3-D boxes: 1x1x2 and 2x1x1 from the origin to (2,1,2)... check by
  // inclusion-exclusion: a=(0,0,1) -> 2*1*1=2, b=(1,0,0) -> 1*1*2=2,
  // overlap from (1,0,1): 1*1*1 = 1 -> 3.
  EXPECT_DOUBLE_EQ(Hypervolume({{0, 0, 1}, {1, 0, 0}}, {2, 1, 2}), 3.0);
}

TEST(ParetoTest, HypervolumeMatchesMonteCarloIn4D) {
  Rng rng(1);
  std::vector<Point> points;
  for (int i = 0; i < 30; ++i) {
    points.push_back(
        {rng.Uniform(), rng.Uniform(), rng.Uniform(), rng.Uniform()});
  }
  const Point reference = {1, 1, 1, 1};
  const double exact = Hypervolume(points, reference);
  int inside = 0;
  constexpr int kSamples = 200000;
  for (int s = 0; s < kSamples; ++s) {
    const Point x = {rng.Uniform(), rng.Uniform(), rng.Uniform(),
                     rng.Uniform()};
    for (const Point& p : points) {
      if (p[0] <= x[0] && p[1] <= x[1] && p[2] <= x[2] && p[3] <= x[3]) {
        ++inside;
        break;
      }
    }
  }
  EXPECT_NEAR(exact, static_cast<double>(inside) / kSamples, 0.005);
}

}  // namespace
}  // namespace mcunas::searchspace
