// Multi-objective utilities: non-dominated sorting and crowding distance
// (NSGA-II, Deb et al. 2002) and the exact hypervolume of a front. Points are
// vectors of objectives, all MINIMISED (negate what you maximise, e.g.
// accuracy). Stateless functions; thread-safe.
//
// A search's objectives are (accuracy, latency, peak SRAM, flash):
// ObjectivesOf turns them into a minimised vector.
#ifndef MCUNAS_SEARCHSPACE_PARETO_H_
#define MCUNAS_SEARCHSPACE_PARETO_H_

#include <cstdint>
#include <vector>

#include "mcunas/searchspace/evaluator.h"

namespace mcunas::searchspace {

using Point = std::vector<double>;

// a dominates b: no worse in every objective, better in one.
bool Dominates(const Point& a, const Point& b);

// Fronts of point indices: front 0 is non-dominated, front 1 is
// non-dominated once front 0 is removed, ... O(M N^2).
std::vector<std::vector<int32_t>> NonDominatedSort(
    const std::vector<Point>& points);

// Indices of the non-dominated points.
std::vector<int32_t> ParetoFront(const std::vector<Point>& points);

// NSGA-II crowding distance of each member of `front` (parallel to it):
// the sum over objectives of the normalised gap between its neighbours;
// the extremes of each objective get infinity. O(M N log N).
std::vector<double> CrowdingDistance(const std::vector<Point>& points,
                                     const std::vector<int32_t>& front);

// The `count` best indices by (front, then larger crowding distance), the
// NSGA-II survivor selection. Deterministic: ties keep index order.
std::vector<int32_t> SelectByRankAndCrowding(const std::vector<Point>& points,
                                             int32_t count);

// The volume of objective space dominated by `points` and bounded by
// `reference` (points not strictly better than it in every objective add
// nothing). Exact: slices along the last objective and recurses down to a
// 2-D sweep, O(N^(M-1) log N) — fine for fronts of a few hundred points in
// 4 objectives.
double Hypervolume(const std::vector<Point>& points, const Point& reference);

// (-score, latency, peak SRAM bytes, flash bytes).
Point ObjectivesOf(double score, const Candidate& candidate);

}  // namespace mcunas::searchspace

#endif  // MCUNAS_SEARCHSPACE_PARETO_H_
