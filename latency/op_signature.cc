#include "mcunas/latency/op_signature.h"

#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mcunas::latency {
namespace {

using engine::Activation;
using engine::OpType;

struct OpName {
  OpType op;
  absl::string_view name;
};
constexpr OpName kOpNames[] = {
    {OpType::kConv2D, "conv"},       {OpType::kDepthwiseConv2D, "dwconv"},
    {OpType::kAdd, "add"},           {OpType::kAveragePool2D, "avgpool"},
    {OpType::kFullyConnected, "fc"},
};

struct ActivationWord {
  Activation activation;
  absl::string_view name;
};
constexpr ActivationWord kActivationNames[] = {
    {Activation::kNone, "none"},
    {Activation::kRelu, "relu"},
    {Activation::kRelu6, "relu6"},
};

absl::string_view NameOf(OpType op) {
  for (const OpName& n : kOpNames) {
    if (n.op == op) return n.name;
  }
  return "?";
}

absl::string_view NameOf(Activation activation) {
  for (const ActivationWord& n : kActivationNames) {
    if (n.activation == activation) return n.name;
  }
  return "?";
}

// "14x14x16" -> three positive numbers.
bool ParseShape(absl::string_view text, int32_t* h, int32_t* w, int32_t* c) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, 'x');
  return parts.size() == 3 && absl::SimpleAtoi(parts[0], h) &&
         absl::SimpleAtoi(parts[1], w) && absl::SimpleAtoi(parts[2], c) &&
         *h > 0 && *w > 0 && *c > 0;
}

// "k3" -> 3 (>= 0).
bool ParsePrefixed(absl::string_view text, char prefix, int32_t* value) {
  return !text.empty() && text[0] == prefix &&
         absl::SimpleAtoi(text.substr(1), value) && *value >= 0;
}

}  // namespace

absl::string_view OpSignature::OpName() const { return NameOf(op); }

absl::string_view OpSignature::ActivationName() const {
  return NameOf(activation);
}

std::string OpSignature::Key() const {
  return absl::StrCat(NameOf(op), " k", kernel, " s", stride, " ",
                      NameOf(activation), " ", in_h, "x", in_w, "x", in_c, ">",
                      out_h, "x", out_w, "x", out_c, " ", quant);
}

bool OpSignature::operator==(const OpSignature& o) const {
  return std::tie(op, activation, kernel, stride, in_h, in_w, in_c, out_h,
                  out_w, out_c, quant) ==
         std::tie(o.op, o.activation, o.kernel, o.stride, o.in_h, o.in_w,
                  o.in_c, o.out_h, o.out_w, o.out_c, o.quant);
}

size_t OpSignatureHash::operator()(const OpSignature& s) const {
  // FNV-1a over the fields; the quantisation string is almost always the
  // same, so it is left to operator== to tell apart.
  uint64_t h = 1469598103934665603ull;
  const int32_t fields[] = {static_cast<int32_t>(s.op),
                            static_cast<int32_t>(s.activation),
                            s.kernel,
                            s.stride,
                            s.in_h,
                            s.in_w,
                            s.in_c,
                            s.out_h,
                            s.out_w,
                            s.out_c};
  for (int32_t f : fields) {
    h ^= static_cast<uint32_t>(f);
    h *= 1099511628211ull;
  }
  return static_cast<size_t>(h);
}

absl::StatusOr<OpSignature> ParseSignatureKey(absl::string_view key) {
  const auto fail = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("op signature \"", key, "\": ", what));
  };
  const std::vector<absl::string_view> parts = absl::StrSplit(key, ' ');
  if (parts.size() != 6) {
    return fail("expected 6 fields: op kK sS activation HxWxC>HxWxC quant");
  }
  OpSignature s;
  bool found = false;
  for (const OpName& n : kOpNames) {
    if (n.name == parts[0]) {
      s.op = n.op;
      found = true;
    }
  }
  if (!found) return fail(absl::StrCat("unknown op '", parts[0], "'"));
  if (!ParsePrefixed(parts[1], 'k', &s.kernel)) return fail("bad kernel");
  if (!ParsePrefixed(parts[2], 's', &s.stride)) return fail("bad stride");
  found = false;
  for (const ActivationWord& n : kActivationNames) {
    if (n.name == parts[3]) {
      s.activation = n.activation;
      found = true;
    }
  }
  if (!found) return fail(absl::StrCat("unknown activation '", parts[3], "'"));
  const std::vector<absl::string_view> shapes = absl::StrSplit(parts[4], '>');
  if (shapes.size() != 2 || !ParseShape(shapes[0], &s.in_h, &s.in_w, &s.in_c) ||
      !ParseShape(shapes[1], &s.out_h, &s.out_w, &s.out_c)) {
    return fail("bad shapes, expected HxWxC>HxWxC");
  }
  s.quant = std::string(parts[5]);
  return s;
}

std::vector<OpSignature> SignaturesOf(const searchspace::Network& net) {
  std::vector<OpSignature> out;
  out.reserve(net.ops.size());
  for (const searchspace::NetOp& op : net.ops) {
    const searchspace::NetTensor& in = net.activations[op.input];
    const searchspace::NetTensor& o = net.activations[op.output];
    OpSignature s;
    s.op = op.type;
    s.activation = op.activation;
    const bool spatial = op.type == OpType::kConv2D ||
                         op.type == OpType::kDepthwiseConv2D ||
                         op.type == OpType::kAveragePool2D;
    s.kernel = spatial ? op.kernel : 0;
    s.stride = spatial ? op.stride : 0;
    s.in_h = in.h;
    s.in_w = in.w;
    s.in_c = in.c;
    s.out_h = o.h;
    s.out_w = o.w;
    s.out_c = o.c;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace mcunas::latency
