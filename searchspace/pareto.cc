#include "mcunas/searchspace/pareto.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace mcunas::searchspace {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Hypervolume of points already filtered to lie strictly inside the
// reference box, in their first `dims` objectives.
double HypervolumeIn(std::vector<Point> points, const Point& reference,
                     size_t dims) {
  if (points.empty()) return 0.0;
  if (dims == 1) {
    double best = reference[0];
    for (const Point& p : points) best = std::min(best, p[0]);
    return reference[0] - best;
  }
  if (dims == 2) {
    std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
      return a[0] != b[0] ? a[0] < b[0] : a[1] < b[1];
    });
    double volume = 0.0;
    double best_y = reference[1];
    for (size_t i = 0; i < points.size(); ++i) {
      best_y = std::min(best_y, points[i][1]);
      const double next_x =
          i + 1 < points.size() ? points[i + 1][0] : reference[0];
      volume += (next_x - points[i][0]) * (reference[1] - best_y);
    }
    return volume;
  }
  // Slice along the last objective: between consecutive values, the
  // dominated region's cross-section is the (dims-1)-volume of the points
  // at or below the slice.
  const size_t last = dims - 1;
  std::sort(
      points.begin(), points.end(),
      [last](const Point& a, const Point& b) { return a[last] < b[last]; });
  double volume = 0.0;
  std::vector<Point> below;
  for (size_t i = 0; i < points.size(); ++i) {
    below.push_back(points[i]);
    const double next =
        i + 1 < points.size() ? points[i + 1][last] : reference[last];
    const double depth = next - points[i][last];
    if (depth > 0.0) volume += depth * HypervolumeIn(below, reference, last);
  }
  return volume;
}

}  // namespace

bool Dominates(const Point& a, const Point& b) {
  bool better = false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

std::vector<std::vector<int32_t>> NonDominatedSort(
    const std::vector<Point>& points) {
  const int32_t n = static_cast<int32_t>(points.size());
  std::vector<std::vector<int32_t>> dominated(n);  // whom i dominates
  std::vector<int32_t> count(n, 0);                // how many dominate i
  std::vector<std::vector<int32_t>> fronts(1);
  for (int32_t i = 0; i < n; ++i) {
    for (int32_t j = i + 1; j < n; ++j) {
      if (Dominates(points[i], points[j])) {
        dominated[i].push_back(j);
        ++count[j];
      } else if (Dominates(points[j], points[i])) {
        dominated[j].push_back(i);
        ++count[i];
      }
    }
  }
  for (int32_t i = 0; i < n; ++i) {
    if (count[i] == 0) fronts[0].push_back(i);
  }
  while (!fronts.back().empty()) {
    std::vector<int32_t> next;
    for (int32_t i : fronts.back()) {
      for (int32_t j : dominated[i]) {
        if (--count[j] == 0) next.push_back(j);
      }
    }
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(next));
  }
  fronts.pop_back();
  return fronts;
}

std::vector<int32_t> ParetoFront(const std::vector<Point>& points) {
  std::vector<std::vector<int32_t>> fronts = NonDominatedSort(points);
  return fronts.empty() ? std::vector<int32_t>{} : fronts[0];
}

std::vector<double> CrowdingDistance(const std::vector<Point>& points,
                                     const std::vector<int32_t>& front) {
  const size_t n = front.size();
  std::vector<double> distance(n, 0.0);
  if (n == 0) return distance;
  const size_t objectives = points[front[0]].size();
  std::vector<size_t> order(n);
  for (size_t m = 0; m < objectives; ++m) {
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return points[front[a]][m] < points[front[b]][m];
    });
    const double lo = points[front[order.front()]][m];
    const double hi = points[front[order.back()]][m];
    distance[order.front()] = kInf;
    distance[order.back()] = kInf;
    if (hi <= lo) continue;
    for (size_t k = 1; k + 1 < n; ++k) {
      distance[order[k]] +=
          (points[front[order[k + 1]]][m] - points[front[order[k - 1]]][m]) /
          (hi - lo);
    }
  }
  return distance;
}

std::vector<int32_t> SelectByRankAndCrowding(const std::vector<Point>& points,
                                             int32_t count) {
  std::vector<int32_t> chosen;
  for (const std::vector<int32_t>& front : NonDominatedSort(points)) {
    if (static_cast<int32_t>(chosen.size()) >= count) break;
    const std::vector<double> distance = CrowdingDistance(points, front);
    std::vector<size_t> order(front.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return distance[a] > distance[b];
    });
    for (size_t k : order) {
      if (static_cast<int32_t>(chosen.size()) >= count) break;
      chosen.push_back(front[k]);
    }
  }
  return chosen;
}

double Hypervolume(const std::vector<Point>& points, const Point& reference) {
  std::vector<Point> inside;
  for (const Point& p : points) {
    bool strictly = p.size() == reference.size();
    for (size_t i = 0; strictly && i < p.size(); ++i) {
      strictly = p[i] < reference[i];
    }
    if (strictly) inside.push_back(p);
  }
  // Dominated points add nothing; dropping them keeps the recursion small.
  std::vector<Point> front;
  for (int32_t i : ParetoFront(inside)) front.push_back(inside[i]);
  return HypervolumeIn(std::move(front), reference, reference.size());
}

Point ObjectivesOf(double score, const Candidate& candidate) {
  return {-score, candidate.latency,
          static_cast<double>(candidate.metrics.peak_sram_bytes),
          static_cast<double>(candidate.metrics.flash_bytes)};
}

}  // namespace mcunas::searchspace
