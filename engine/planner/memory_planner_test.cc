#include "mcunas/engine/memory_planner.h"

#include <stdint.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "mcunas/engine/model_format.h"
#include "mcunas/engine/status.h"

namespace mcunas::engine {
namespace {

// Buffer lifetimes as parallel arrays, the shape LiveBytesLowerBound takes.
struct Graph {
  std::vector<uint32_t> bytes;
  std::vector<uint16_t> first;
  std::vector<uint16_t> last;

  uint16_t Add(uint32_t size, uint16_t from, uint16_t to) {
    bytes.push_back(size);
    first.push_back(from);
    last.push_back(to);
    return static_cast<uint16_t>(bytes.size() - 1);
  }
  uint16_t count() const { return static_cast<uint16_t>(bytes.size()); }
};

struct PlanResult {
  Status status = Status::kOk;
  std::vector<uint32_t> offsets;
  uint32_t peak = 0;
};

template <typename Planner>
PlanResult PlanGraph(const Graph& graph) {
  PlanResult result;
  // uint32_t elements keep the scratch 4-byte aligned.
  std::vector<uint32_t> scratch(
      (Planner::ScratchBytesFor(graph.count()) + 3) / 4 + 1);
  Planner planner(scratch.data(),
                  static_cast<uint32_t>(scratch.size() * sizeof(uint32_t)));
  for (uint16_t i = 0; i < graph.count(); ++i) {
    result.status =
        planner.AddBuffer(graph.bytes[i], graph.first[i], graph.last[i]);
    if (result.status != Status::kOk) return result;
  }
  result.status = planner.Plan();
  if (result.status != Status::kOk) return result;
  EXPECT_EQ(planner.BufferCount(), graph.count());
  for (uint16_t i = 0; i < graph.count(); ++i) {
    result.offsets.push_back(planner.OffsetOf(i));
  }
  result.peak = planner.PeakBytes();
  return result;
}

uint32_t Aligned(uint32_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

uint32_t LowerBound(const Graph& graph) {
  return LiveBytesLowerBound(graph.bytes.data(), graph.first.data(),
                             graph.last.data(), graph.count());
}

// Checks the invariants every valid plan has; `label` names the graph in
// failure messages.
void ExpectValidPlan(const Graph& graph, const PlanResult& plan,
                     const std::string& label) {
  ASSERT_EQ(plan.status, Status::kOk) << label;
  ASSERT_EQ(plan.offsets.size(), graph.bytes.size()) << label;
  EXPECT_EQ(plan.peak % kArenaAlignment, 0u) << label;
  for (size_t i = 0; i < graph.bytes.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % kArenaAlignment, 0u)
        << label << " buffer " << i;
    EXPECT_LE(uint64_t{plan.offsets[i]} + Aligned(graph.bytes[i]), plan.peak)
        << label << " buffer " << i;
  }
  for (size_t i = 0; i < graph.bytes.size(); ++i) {
    for (size_t j = i + 1; j < graph.bytes.size(); ++j) {
      const bool live_together =
          graph.first[i] <= graph.last[j] && graph.first[j] <= graph.last[i];
      if (!live_together) continue;
      const uint64_t a0 = plan.offsets[i], a1 = a0 + Aligned(graph.bytes[i]);
      const uint64_t b0 = plan.offsets[j], b1 = b0 + Aligned(graph.bytes[j]);
      EXPECT_TRUE(a1 <= b0 || b1 <= a0)
          << label << ": buffers " << i << " [" << a0 << "," << a1 << ") and "
          << j << " [" << b0 << "," << b1 << ") are live together";
    }
  }
}

// The lower bound by definition: the live total at every op.
uint32_t BruteForceLowerBound(const Graph& graph) {
  uint16_t ops = 0;
  for (uint16_t last : graph.last) ops = std::max<uint16_t>(ops, last + 1);
  uint64_t best = 0;
  for (uint16_t op = 0; op < ops; ++op) {
    uint64_t live = 0;
    for (size_t i = 0; i < graph.bytes.size(); ++i) {
      if (graph.first[i] <= op && op <= graph.last[i]) {
        live += Aligned(graph.bytes[i]);
      }
    }
    best = std::max(best, live);
  }
  return static_cast<uint32_t>(best);
}

uint32_t RandomSize(std::mt19937& rng) {
  // Mostly activation-sized buffers, some tiny and unaligned, a few empty.
  switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
    case 0:
      return std::uniform_int_distribution<uint32_t>(0, 40)(rng);
    case 1:
      return 16 * std::uniform_int_distribution<uint32_t>(1, 8)(rng);
    default:
      return std::uniform_int_distribution<uint32_t>(1, 200000)(rng);
  }
}

// Independent random lifetimes over a random number of ops.
Graph RandomIntervals(std::mt19937& rng, int max_buffers = 80,
                      int max_ops = 60) {
  Graph graph;
  const int buffers = std::uniform_int_distribution<int>(1, max_buffers)(rng);
  const int ops = std::uniform_int_distribution<int>(1, max_ops)(rng);
  std::uniform_int_distribution<int> op_dist(0, ops - 1);
  for (int i = 0; i < buffers; ++i) {
    int a = op_dist(rng), b = op_dist(rng);
    if (a > b) std::swap(a, b);
    graph.Add(RandomSize(rng), static_cast<uint16_t>(a),
              static_cast<uint16_t>(b));
  }
  return graph;
}

// A random DAG as an interpreter sees it: op t writes tensor t + 1 and reads
// one or two earlier tensors (tensor 0 is the input); a tensor lives from
// its producer to its last reader. Some ops add a scratch buffer.
Graph RandomDag(std::mt19937& rng) {
  Graph graph;
  const int ops = std::uniform_int_distribution<int>(1, 50)(rng);
  std::vector<uint16_t> tensors = {graph.Add(RandomSize(rng), 0, 0)};
  for (int op = 0; op < ops; ++op) {
    const uint16_t t = static_cast<uint16_t>(op);
    const int inputs = std::uniform_int_distribution<int>(1, 2)(rng);
    for (int k = 0; k < inputs; ++k) {
      // Readers favour recent tensors, like real networks.
      const int back = std::min(static_cast<int>(tensors.size()) - 1,
                                std::geometric_distribution<int>(0.5)(rng));
      uint16_t& last = graph.last[tensors[tensors.size() - 1 - back]];
      last = std::max(last, t);
    }
    tensors.push_back(graph.Add(RandomSize(rng), t, t));
    if (std::uniform_int_distribution<int>(0, 4)(rng) == 0) {
      graph.Add(RandomSize(rng), t, t);  // scratch, live only at this op
    }
  }
  return graph;
}

TEST(LiveBytesLowerBoundTest, EmptyIsZero) {
  EXPECT_EQ(LiveBytesLowerBound(nullptr, nullptr, nullptr, 0), 0u);
}

TEST(LiveBytesLowerBoundTest, SumsAlignedBytesAtBusiestOp) {
  Graph graph;
  graph.Add(1, 0, 1);    // 16
  graph.Add(17, 1, 2);   // 32
  graph.Add(100, 2, 2);  // 112
  graph.Add(500, 3, 3);  // 512
  EXPECT_EQ(LowerBound(graph), 512u);
  graph.Add(1, 2, 2);  // op 2: 32 + 112 + 16 = 160 < 512
  EXPECT_EQ(LowerBound(graph), 512u);
  graph.Add(400, 2, 2);  // op 2: 160 + 400 = 560
  EXPECT_EQ(LowerBound(graph), 560u);
}

TEST(LiveBytesLowerBoundTest, MatchesPerOpDefinition) {
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    const Graph graph = (i % 2) ? RandomDag(rng) : RandomIntervals(rng);
    ASSERT_EQ(LowerBound(graph), BruteForceLowerBound(graph)) << "graph " << i;
  }
}

TEST(LinearPlannerTest, PlacesBuffersInCallOrder) {
  Graph graph;
  graph.Add(10, 0, 0);
  graph.Add(32, 0, 1);
  graph.Add(0, 1, 1);
  graph.Add(1, 2, 2);
  const PlanResult plan = PlanGraph<LinearPlanner>(graph);
  ASSERT_EQ(plan.status, Status::kOk);
  EXPECT_EQ(plan.offsets, (std::vector<uint32_t>{0, 16, 48, 48}));
  EXPECT_EQ(plan.peak, 64u);
}

TEST(GreedyPlannerTest, EmptyPlanHasZeroPeak) {
  const PlanResult greedy = PlanGraph<GreedyPlanner>(Graph{});
  EXPECT_EQ(greedy.status, Status::kOk);
  EXPECT_EQ(greedy.peak, 0u);
  const PlanResult linear = PlanGraph<LinearPlanner>(Graph{});
  EXPECT_EQ(linear.status, Status::kOk);
  EXPECT_EQ(linear.peak, 0u);
}

TEST(GreedyPlannerTest, OneBufferIsRoundedUpToAlignment) {
  Graph graph;
  graph.Add(33, 0, 0);
  const PlanResult plan = PlanGraph<GreedyPlanner>(graph);
  ASSERT_EQ(plan.status, Status::kOk);
  EXPECT_EQ(plan.offsets[0], 0u);
  EXPECT_EQ(plan.peak, 48u);
}

TEST(GreedyPlannerTest, ReusesDeadBuffers) {
  // A chain a -> b -> c -> d: a and c (and b and d) are never live together,
  // so two slots suffice.
  Graph graph;
  graph.Add(1000, 0, 1);
  graph.Add(1000, 1, 2);
  graph.Add(1000, 2, 3);
  graph.Add(1000, 3, 4);
  const PlanResult plan = PlanGraph<GreedyPlanner>(graph);
  ExpectValidPlan(graph, plan, "chain");
  EXPECT_EQ(plan.peak, 2 * Aligned(1000));
  EXPECT_EQ(plan.offsets[0], plan.offsets[2]);
  EXPECT_EQ(plan.offsets[1], plan.offsets[3]);
}

TEST(GreedyPlannerTest, FillsGapBetweenLiveBuffers) {
  // `small` is live with both `low` and `high` but not with `gap_owner`, so
  // it goes into the hole `gap_owner` leaves between them.
  Graph graph;
  const uint16_t low = graph.Add(4096, 0, 3);
  const uint16_t gap_owner = graph.Add(2048, 0, 0);
  const uint16_t high = graph.Add(1024, 0, 3);
  const uint16_t small = graph.Add(512, 1, 2);
  const PlanResult plan = PlanGraph<GreedyPlanner>(graph);
  ExpectValidPlan(graph, plan, "gap");
  EXPECT_EQ(plan.offsets[low], 0u);
  EXPECT_EQ(plan.offsets[gap_owner], 4096u);
  EXPECT_EQ(plan.offsets[high], 4096u + 2048u);
  EXPECT_EQ(plan.offsets[small], 4096u);
  EXPECT_EQ(plan.peak, LowerBound(graph));
}

// The greedy scheme as documented, written for clarity: every order is
// placed in full with a first fit over the buffers live at the same time.
// Plan() stops early and sorts and inserts differently; it must give exactly
// this plan.
PlanResult ReferenceGreedy(const Graph& graph) {
  const size_t n = graph.bytes.size();
  using Key = std::tuple<int64_t, int64_t, size_t>;
  const std::function<Key(size_t)> kOrders[] = {
      [&](size_t i) {  // size, largest first
        return Key{-int64_t{Aligned(graph.bytes[i])}, graph.first[i], i};
      },
      [&](size_t i) {  // first use
        return Key{graph.first[i], -int64_t{Aligned(graph.bytes[i])}, i};
      },
      [&](size_t i) {  // lifetime, longest first
        return Key{-(graph.last[i] - graph.first[i]),
                   -int64_t{Aligned(graph.bytes[i])}, i};
      },
  };
  PlanResult best;
  uint64_t best_peak = UINT64_MAX;
  for (const auto& key : kOrders) {
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return key(a) < key(b); });
    std::vector<uint64_t> offsets(n, 0);
    std::vector<size_t> placed;
    uint64_t peak = 0;
    for (size_t i : order) {
      std::vector<std::pair<uint64_t, uint64_t>> busy;  // [start, end)
      for (size_t j : placed) {
        if (graph.first[i] <= graph.last[j] &&
            graph.first[j] <= graph.last[i]) {
          busy.emplace_back(offsets[j], offsets[j] + Aligned(graph.bytes[j]));
        }
      }
      std::sort(busy.begin(), busy.end());
      uint64_t candidate = 0;
      for (const auto& [start, end] : busy) {
        if (start >= candidate + Aligned(graph.bytes[i])) break;
        candidate = std::max(candidate, end);
      }
      offsets[i] = candidate;
      peak = std::max(peak, candidate + Aligned(graph.bytes[i]));
      placed.push_back(i);
    }
    if (peak < best_peak) {
      best_peak = peak;
      best.offsets.assign(offsets.begin(), offsets.end());
    }
  }
  if (best_peak > UINT32_MAX) {
    best.status = Status::kPlanFailed;
    best.offsets.clear();
  } else {
    best.peak = static_cast<uint32_t>(best_peak);
  }
  return best;
}

TEST(GreedyPlannerTest, EqualSizesAreDeterministic) {
  Graph graph;
  for (uint16_t i = 0; i < 6; ++i) graph.Add(64, 5 - i, 5);
  const PlanResult a = PlanGraph<GreedyPlanner>(graph);
  const PlanResult b = PlanGraph<GreedyPlanner>(graph);
  ExpectValidPlan(graph, a, "ties");
  EXPECT_EQ(a.offsets, b.offsets);
  // Earlier first use wins a tie, so the buffer live from op 0 sits lowest.
  EXPECT_EQ(a.offsets[5], 0u);
}

TEST(GreedyPlannerTest, ScratchTooSmallFailsAddBuffer) {
  alignas(4) uint8_t scratch[256];
  const uint32_t two = GreedyPlanner::ScratchBytesFor(2);
  ASSERT_LE(two, sizeof(scratch));
  GreedyPlanner planner(scratch, two);
  EXPECT_EQ(planner.AddBuffer(16, 0, 0), Status::kOk);
  EXPECT_EQ(planner.AddBuffer(16, 0, 1), Status::kOk);
  EXPECT_EQ(planner.AddBuffer(16, 1, 1), Status::kPlanFailed);
  EXPECT_EQ(planner.BufferCount(), 2);
  EXPECT_EQ(planner.Plan(), Status::kOk);
  EXPECT_EQ(planner.PeakBytes(), 32u);

  LinearPlanner linear(scratch, LinearPlanner::ScratchBytesFor(1));
  EXPECT_EQ(linear.AddBuffer(16, 0, 0), Status::kOk);
  EXPECT_EQ(linear.AddBuffer(16, 0, 0), Status::kPlanFailed);
}

TEST(GreedyPlannerTest, UnusableScratchHoldsNothing) {
  alignas(4) uint8_t scratch[64];
  GreedyPlanner null_scratch(nullptr, 1024);
  EXPECT_EQ(null_scratch.AddBuffer(16, 0, 0), Status::kPlanFailed);
  GreedyPlanner misaligned(scratch + 1, sizeof(scratch) - 1);
  EXPECT_EQ(misaligned.AddBuffer(16, 0, 0), Status::kPlanFailed);
  EXPECT_EQ(misaligned.Plan(), Status::kOk);
  EXPECT_EQ(misaligned.PeakBytes(), 0u);
}

TEST(GreedyPlannerTest, RejectsInvalidBuffers) {
  alignas(4) uint8_t scratch[256];
  GreedyPlanner planner(scratch, sizeof(scratch));
  EXPECT_EQ(planner.AddBuffer(16, 2, 1), Status::kInvalidArgument);
  EXPECT_EQ(planner.AddBuffer(UINT32_MAX, 0, 0), Status::kInvalidArgument);
  EXPECT_EQ(planner.BufferCount(), 0);
}

TEST(GreedyPlannerTest, ArenaBeyond32BitsFailsPlan) {
  Graph graph;
  for (int i = 0; i < 3; ++i) graph.Add(0x60000000u, 0, 0);
  EXPECT_EQ(PlanGraph<GreedyPlanner>(graph).status, Status::kPlanFailed);
  EXPECT_EQ(PlanGraph<LinearPlanner>(graph).status, Status::kPlanFailed);
  EXPECT_EQ(LowerBound(graph), UINT32_MAX);
}

TEST(GreedyPlannerTest, NeverOverlapsLiveBuffers) {
  constexpr int kGraphs = 1500;
  std::mt19937 rng(20240601);
  for (int i = 0; i < kGraphs; ++i) {
    const Graph graph = (i % 2) ? RandomDag(rng) : RandomIntervals(rng);
    const std::string label = "graph " + std::to_string(i);
    const PlanResult greedy = PlanGraph<GreedyPlanner>(graph);
    ExpectValidPlan(graph, greedy, label);
    const PlanResult linear = PlanGraph<LinearPlanner>(graph);
    ExpectValidPlan(graph, linear, label);
    EXPECT_LE(greedy.peak, linear.peak) << label;
    EXPECT_GE(greedy.peak, LowerBound(graph)) << label;
    if (testing::Test::HasFailure()) break;
  }
}

TEST(GreedyPlannerTest, MatchesReferenceGreedyAndBound) {
  constexpr int kGraphs = 3000;
  std::mt19937 rng(20261121);
  for (int i = 0; i < kGraphs; ++i) {
    // Every 100th graph is large, for the sorts' longer merges.
    const Graph graph = (i % 100 == 99) ? RandomIntervals(rng, 700, 200)
                        : (i % 2)       ? RandomDag(rng)
                                        : RandomIntervals(rng);
    const std::string label = "graph " + std::to_string(i);
    std::vector<uint32_t> scratch(
        (GreedyPlanner::ScratchBytesFor(graph.count()) + 3) / 4 + 1);
    GreedyPlanner planner(scratch.data(),
                          static_cast<uint32_t>(scratch.size() * 4));
    for (uint16_t b = 0; b < graph.count(); ++b) {
      ASSERT_EQ(
          planner.AddBuffer(graph.bytes[b], graph.first[b], graph.last[b]),
          Status::kOk);
    }
    ASSERT_EQ(planner.Plan(), Status::kOk) << label;
    const PlanResult reference = ReferenceGreedy(graph);
    ASSERT_EQ(reference.status, Status::kOk) << label;
    EXPECT_EQ(planner.PeakBytes(), reference.peak) << label;
    for (uint16_t b = 0; b < graph.count(); ++b) {
      EXPECT_EQ(planner.OffsetOf(b), reference.offsets[b])
          << label << " buffer " << b;
    }
    EXPECT_EQ(planner.LowerBoundBytes(), LowerBound(graph)) << label;
    if (testing::Test::HasFailure()) break;
  }
}

// One inverted-residual block (MobileNetV2): 1x1 expand, depthwise k x k
// with stride s, 1x1 project, and a residual add when s == 1 and the channel
// count is unchanged.
struct BlockSpec {
  int expand;
  int kernel;
  int stride;
  int out_channels;
};

// Builds the buffer lifetimes an engine sees for a chain of blocks on an
// H x W x C int8 input. Op numbering: each block's ops run in order; a tensor
// lives from the op that writes it to the last op that reads it. With
// `in_place` the depthwise writes over the expand output (one buffer of the
// larger size) and needs one padded input-channel plane of scratch.
Graph BuildInvertedResidualChain(int resolution, int channels,
                                 const std::vector<BlockSpec>& blocks,
                                 bool in_place) {
  Graph graph;
  int h = resolution, w = resolution, c = channels;
  uint16_t op = 0;
  uint16_t x = graph.Add(static_cast<uint32_t>(h * w * c), 0, 0);
  for (const BlockSpec& block : blocks) {
    const int mid = c * block.expand;
    const int out_h = (h + block.stride - 1) / block.stride;
    const int out_w = (w + block.stride - 1) / block.stride;
    const bool residual = block.stride == 1 && block.out_channels == c;

    const uint16_t expand_op = op++;
    const uint16_t depthwise_op = op++;
    const uint16_t project_op = op++;
    const uint16_t add_op = residual ? op++ : project_op;
    graph.last[x] = residual ? add_op : expand_op;

    const uint16_t expanded =
        graph.Add(static_cast<uint32_t>(h * w * mid), expand_op, depthwise_op);
    if (in_place) {
      graph.last[expanded] = project_op;
      const int pad = block.kernel / 2;
      graph.Add(static_cast<uint32_t>((h + 2 * pad) * (w + 2 * pad)),
                depthwise_op, depthwise_op);
    } else {
      graph.Add(static_cast<uint32_t>(out_h * out_w * mid), depthwise_op,
                project_op);
    }
    const uint32_t out_bytes =
        static_cast<uint32_t>(out_h * out_w * block.out_channels);
    uint16_t out = graph.Add(out_bytes, project_op, project_op);
    if (residual) {
      graph.last[out] = add_op;
      out = graph.Add(out_bytes, add_op, add_op);
    }
    x = out;
    h = out_h;
    w = out_w;
    c = block.out_channels;
  }
  return graph;
}

// MobileNetV2's stage layout (channel multipliers of the first width, block
// counts, first stride), with expand ratio and kernel drawn per block.
std::vector<BlockSpec> Mbv2Blocks(int width, std::mt19937& rng,
                                  int fixed_expand, int fixed_kernel) {
  struct Stage {
    int multiplier_x2;  // channels = width * multiplier_x2 / 2
    int blocks;
    int stride;
  };
  static constexpr Stage kStages[] = {
      {2, 1, 1}, {3, 2, 2}, {4, 3, 2}, {8, 4, 2}, {12, 3, 1}, {20, 3, 2},
  };
  static constexpr int kExpands[] = {3, 4, 6};
  static constexpr int kKernels[] = {3, 5, 7};
  std::uniform_int_distribution<int> pick(0, 2);
  std::vector<BlockSpec> blocks;
  for (const Stage& stage : kStages) {
    const int out = std::max(8, (width * stage.multiplier_x2 / 2 + 4) / 8 * 8);
    for (int i = 0; i < stage.blocks; ++i) {
      const int expand = fixed_expand ? fixed_expand : kExpands[pick(rng)];
      const int kernel = fixed_kernel ? fixed_kernel : kKernels[pick(rng)];
      blocks.push_back({expand, kernel, i == 0 ? stage.stride : 1, out});
    }
  }
  return blocks;
}

TEST(GreedyPlannerTest, ExpandBufferOfDeadBlockIsReused) {
  // Two in-place blocks: a residual one, then a stride-2 one. Size order
  // alone puts both expand buffers at 0, so the first block's output (live
  // into the second block's expand) cannot take the dead expand buffer's
  // place and the peak is 20% above the live bound; another order reaches it.
  const Graph graph = BuildInvertedResidualChain(
      28, 8, {{3, 3, 1, 8}, {3, 3, 2, 16}}, /*in_place=*/true);
  const PlanResult plan = PlanGraph<GreedyPlanner>(graph);
  ExpectValidPlan(graph, plan, "two blocks");
  EXPECT_EQ(plan.peak, LowerBound(graph));
}

TEST(GreedyPlannerTest, InvertedResidualChainsNearLowerBound) {
  static constexpr int kResolutions[] = {28, 32,  48,  64,  80,
                                         96, 112, 128, 144, 160};
  static constexpr int kWidths[] = {8, 16, 24, 32, 48, 64, 96};
  std::mt19937 rng(1234);
  double worst = 0;
  std::string worst_label;
  int chains = 0;
  for (int resolution : kResolutions) {
    for (int width : kWidths) {
      // Variants 0-8: every expand ratio with every kernel size in all
      // blocks; 9-11: both drawn per block.
      for (int variant = 0; variant < 12; ++variant) {
        static constexpr int kExpands[] = {3, 4, 6};
        const int expand = variant < 9 ? kExpands[variant / 3] : 0;
        const int kernel = variant < 9 ? 3 + 2 * (variant % 3) : 0;
        const std::vector<BlockSpec> blocks =
            Mbv2Blocks(width, rng, expand, kernel);
        for (bool in_place : {false, true}) {
          const Graph graph =
              BuildInvertedResidualChain(resolution, width, blocks, in_place);
          const std::string label = "R" + std::to_string(resolution) + " w" +
                                    std::to_string(width) + " variant " +
                                    std::to_string(variant) +
                                    (in_place ? " in-place" : "");
          const PlanResult plan = PlanGraph<GreedyPlanner>(graph);
          ExpectValidPlan(graph, plan, label);
          const PlanResult reference = ReferenceGreedy(graph);
          EXPECT_EQ(plan.peak, reference.peak) << label;
          EXPECT_EQ(plan.offsets, reference.offsets) << label;
          const uint32_t bound = LowerBound(graph);
          const double ratio = static_cast<double>(plan.peak) / bound;
          EXPECT_LE(ratio, 1.10)
              << label << ": peak " << plan.peak << " lower bound " << bound;
          if (ratio > worst) {
            worst = ratio;
            worst_label = label;
          }
          ++chains;
        }
      }
    }
  }
  std::printf("%d chains; worst greedy peak / lower bound = %.4f (%s)\n",
              chains, worst, worst_label.c_str());
}

}  // namespace
}  // namespace mcunas::engine
