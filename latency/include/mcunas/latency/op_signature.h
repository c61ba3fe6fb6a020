// What a latency table is keyed by: one op's signature — the op, its input
// and output shapes, kernel size, stride, fused activation and quantisation
// type. Two ops with equal signatures run the same kernel code on the same
// amount of data, so on a given board and engine build they cost the same
// (up to measurement noise). The expand ratio of a block is not a field of
// its own: it is the expand and project convs' channel counts.
//
// Key() is the stable text form stored in the database, e.g.
//   conv k1 s1 relu6 14x14x16>14x14x48 int8
// Its vocabulary is this file's own (not a tool's display names) because a
// stored key must never change meaning.
//
// Plain values and stateless functions; thread-safe.
#ifndef MCUNAS_LATENCY_OP_SIGNATURE_H_
#define MCUNAS_LATENCY_OP_SIGNATURE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mcunas/engine/model_format.h"
#include "mcunas/searchspace/network.h"

namespace mcunas::latency {

// The quantisation every MBNet op of the engine uses: int8 activations,
// int8 per-channel weights, int32 bias.
inline constexpr absl::string_view kQuantInt8 = "int8";

struct OpSignature {
  engine::OpType op = engine::OpType::kConv2D;
  engine::Activation activation = engine::Activation::kNone;
  int32_t kernel = 1;  // square; 0 for add and fully connected
  int32_t stride = 1;  // 0 for add and fully connected
  int32_t in_h = 1, in_w = 1, in_c = 1;
  int32_t out_h = 1, out_w = 1, out_c = 1;
  std::string quant = std::string(kQuantInt8);

  std::string Key() const;
  // The op's and the activation's words in Key(): "conv", "relu6".
  absl::string_view OpName() const;
  absl::string_view ActivationName() const;
  bool operator==(const OpSignature& o) const;
  bool operator!=(const OpSignature& o) const { return !(*this == o); }
};

struct OpSignatureHash {
  size_t operator()(const OpSignature& s) const;
};

// Parses Key()'s form back; InvalidArgument quoting the text otherwise.
absl::StatusOr<OpSignature> ParseSignatureKey(absl::string_view key);

// The signature of every op of `net`, in op order.
std::vector<OpSignature> SignaturesOf(const searchspace::Network& net);

}  // namespace mcunas::latency

#endif  // MCUNAS_LATENCY_OP_SIGNATURE_H_
