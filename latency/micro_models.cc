#include "mcunas/latency/micro_models.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"

namespace mcunas::latency {
namespace {

using searchspace::ArchSpec;
using searchspace::BlockSpec;
using searchspace::Network;
using searchspace::SearchSpace;
using searchspace::SpaceDef;

// One piece of a network: ops [first, last) and what to call it.
struct Piece {
  size_t first;
  size_t last;
  std::string name;
};

// The architecture at (R, W) with every stage at its largest depth and
// every block at the stage's `variant`-th (kernel, expand) pair (wrapping
// for stages with fewer pairs).
ArchSpec Variant(const SpaceDef& def, int32_t resolution, int32_t width_milli,
                 size_t variant) {
  ArchSpec arch;
  arch.resolution = resolution;
  arch.width_milli = width_milli;
  for (const searchspace::StageDef& stage : def.stages) {
    const size_t pairs = stage.kernels.size() * stage.expands.size();
    const size_t v = variant % pairs;
    BlockSpec block;
    block.kernel = stage.kernels[v / stage.expands.size()];
    block.expand = stage.expands[v % stage.expands.size()];
    const int32_t depth =
        *std::max_element(stage.depths.begin(), stage.depths.end());
    arch.stages.emplace_back(depth, block);
  }
  return arch;
}

// Splits BuildNetwork's op list into stem, blocks and tail (see network.h
// for the order): a block is its expand conv (unless the ratio is 1), the
// depthwise conv, the project conv and an add when one follows.
std::vector<Piece> Pieces(const Network& net, const ArchSpec& arch) {
  const std::string prefix = absl::StrCat(
      "r", arch.resolution, "-w", searchspace::FormatWidth(arch.width_milli));
  std::vector<Piece> pieces;
  pieces.push_back({0, 1, absl::StrCat(prefix, " stem")});
  size_t op = 1;
  for (size_t s = 0; s < arch.stages.size(); ++s) {
    for (size_t b = 0; b < arch.stages[s].size(); ++b) {
      const BlockSpec& block = arch.stages[s][b];
      size_t end = op + (block.expand != 1 ? 3 : 2);
      if (end < net.ops.size() && net.ops[end].type == engine::OpType::kAdd) {
        ++end;
      }
      pieces.push_back({op, end,
                        absl::StrCat(prefix, " stage ", s, " block ", b, " (k",
                                     block.kernel, " e", block.expand, ")")});
      op = end;
    }
  }
  pieces.push_back({op, net.ops.size(), absl::StrCat(prefix, " tail")});
  return pieces;
}

}  // namespace

Network CutNetwork(const Network& net, size_t first, size_t last) {
  Network out;
  std::unordered_map<int32_t, int32_t> renumbered;
  const auto map = [&](int32_t activation) {
    auto [it, inserted] = renumbered.try_emplace(
        activation, static_cast<int32_t>(out.activations.size()));
    if (inserted) out.activations.push_back(net.activations[activation]);
    return it->second;
  };
  // The outside input is the first op's input: map it first so it is 0.
  map(net.ops[first].input);
  for (size_t i = first; i < last; ++i) {
    searchspace::NetOp op = net.ops[i];
    op.input = map(op.input);
    if (op.input2 >= 0) op.input2 = map(op.input2);
    op.output = map(op.output);
    out.ops.push_back(op);
  }
  out.output = out.ops.back().output;
  return out;
}

absl::StatusOr<std::vector<MicroModel>> CoveringMicroModels(
    const SearchSpace& space) {
  const SpaceDef& def = space.def();
  size_t variants = 1;
  for (const searchspace::StageDef& stage : def.stages) {
    variants = std::max(variants, stage.kernels.size() * stage.expands.size());
  }
  std::vector<MicroModel> models;
  std::unordered_set<OpSignature, OpSignatureHash> covered;
  for (int32_t resolution : def.resolutions) {
    for (int32_t width : def.widths_milli) {
      for (size_t v = 0; v < variants; ++v) {
        const ArchSpec arch = Variant(def, resolution, width, v);
        MCUNAS_ASSIGN_OR_RETURN(const Network net,
                                searchspace::BuildNetwork(space, arch));
        for (const Piece& piece : Pieces(net, arch)) {
          MicroModel m;
          m.net = CutNetwork(net, piece.first, piece.last);
          m.signatures = SignaturesOf(m.net);
          bool adds = false;
          for (const OpSignature& s : m.signatures) {
            adds |= covered.insert(s).second;
          }
          if (!adds) continue;
          m.name = piece.name;
          models.push_back(std::move(m));
        }
      }
    }
  }
  return models;
}

}  // namespace mcunas::latency
