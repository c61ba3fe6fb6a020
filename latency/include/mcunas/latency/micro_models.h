// The micro-models a latency table is measured with: small networks, each
// one piece of a real candidate — the stem conv, one inverted-residual block
// (expand, depthwise, project, and the residual add when the block has one),
// or the tail (head conv, global pool, classifier) — cut out of networks
// that BuildNetwork makes, so every op has exactly the shapes and
// parameters it has inside a candidate. Measuring a micro-model's ops one by
// one (Device::ProfileOps) gives one table entry per op.
//
// Covering a space: for each (R, W) the networks at every stage's largest
// depth with every (kernel, expand) choice contain every op signature any
// architecture of that (R, W) can have (a stage's first block and its
// later blocks differ; later blocks are all alike). Pieces whose
// signatures are all covered by earlier pieces are dropped.
//
// Stateless functions; thread-safe.
#ifndef MCUNAS_LATENCY_MICRO_MODELS_H_
#define MCUNAS_LATENCY_MICRO_MODELS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/latency/op_signature.h"
#include "mcunas/searchspace/network.h"
#include "mcunas/searchspace/search_space.h"

namespace mcunas::latency {

struct MicroModel {
  // What it was cut from, e.g. "r28-w0.5 stage 2 block 1 (k5 e6)".
  std::string name;
  searchspace::Network net;             // activation 0 is its only input
  std::vector<OpSignature> signatures;  // one per op of net
};

// The micro-models covering every op signature of `space`'s architectures,
// (R, W) by (R, W) in the space's order; each has at least one signature no
// earlier one has.
absl::StatusOr<std::vector<MicroModel>> CoveringMicroModels(
    const searchspace::SearchSpace& space);

// The network's ops [first, last) as a network of their own: the activation
// they read but do not write becomes input 0. REQUIRES: the ops read
// exactly one activation from outside the range.
searchspace::Network CutNetwork(const searchspace::Network& net, size_t first,
                                size_t last);

}  // namespace mcunas::latency

#endif  // MCUNAS_LATENCY_MICRO_MODELS_H_
