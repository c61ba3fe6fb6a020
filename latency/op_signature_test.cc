#include "mcunas/latency/op_signature.h"

#include "gtest/gtest.h"
#include "mcunas/searchspace/network.h"
#include "mcunas/searchspace/search_space.h"

namespace mcunas::latency {
namespace {

TEST(OpSignatureTest, KeyRoundTripsForEveryOpOfANetwork) {
  absl::StatusOr<searchspace::SearchSpace> space =
      searchspace::SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(space.ok());
  absl::StatusOr<searchspace::ArchSpec> arch = space->Parse(
      "r28-w0.5:k3e1|k3e4,k5e6|k7e3,k3e3|k5e4,k5e4|k3e6,k7e6|k3e3,k3e3|k5e6");
  ASSERT_TRUE(arch.ok()) << arch.status();
  absl::StatusOr<searchspace::Network> net =
      searchspace::BuildNetwork(*space, *arch);
  ASSERT_TRUE(net.ok());
  const std::vector<OpSignature> signatures = SignaturesOf(*net);
  ASSERT_EQ(signatures.size(), net->ops.size());
  for (const OpSignature& s : signatures) {
    absl::StatusOr<OpSignature> back = ParseSignatureKey(s.Key());
    ASSERT_TRUE(back.ok()) << s.Key() << ": " << back.status();
    EXPECT_EQ(*back, s) << s.Key();
    EXPECT_EQ(OpSignatureHash()(*back), OpSignatureHash()(s));
  }
  // The stem: 3x3 stride-2 conv from 28x28x1 to 14x14x16 (32 x 0.5).
  EXPECT_EQ(signatures.front().Key(), "conv k3 s2 relu6 28x28x1>14x14x16 int8");
  // The classifier.
  EXPECT_EQ(signatures.back().Key(), "fc k0 s0 none 1x1x256>1x1x10 int8");
}

TEST(OpSignatureTest, FieldsThatDifferMakeDifferentSignatures) {
  OpSignature a;
  a.op = engine::OpType::kDepthwiseConv2D;
  a.kernel = 3;
  OpSignature b = a;
  EXPECT_EQ(a, b);
  b.kernel = 5;
  EXPECT_NE(a, b);
  b = a;
  b.stride = 2;
  EXPECT_NE(a, b);
  b = a;
  b.activation = engine::Activation::kRelu6;
  EXPECT_NE(a, b);
  b = a;
  b.out_c = 2;
  EXPECT_NE(a, b);
  b = a;
  b.quant = "int16";
  EXPECT_NE(a, b);
  EXPECT_NE(a.Key(), b.Key());
}

TEST(OpSignatureTest, MalformedKeysAreRefusedNamingTheProblem) {
  const char* const bad[] = {
      "",
      "conv k1 s1 relu6 1x1x8>1x1x8",        // no quant
      "warp k1 s1 relu6 1x1x8>1x1x8 int8",   // unknown op
      "conv 1 s1 relu6 1x1x8>1x1x8 int8",    // no k
      "conv k1 s1 tanh 1x1x8>1x1x8 int8",    // unknown activation
      "conv k1 s1 relu6 1x1x8 int8",         // one shape
      "conv k1 s1 relu6 1x0x8>1x1x8 int8",   // zero size
      "conv k1 s-1 relu6 1x1x8>1x1x8 int8",  // negative stride
  };
  for (const char* key : bad) {
    absl::StatusOr<OpSignature> s = ParseSignatureKey(key);
    EXPECT_FALSE(s.ok()) << key;
    if (!s.ok()) {
      EXPECT_NE(s.status().message().find("op signature"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace mcunas::latency
