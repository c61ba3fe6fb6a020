#include "mcunas/searchspace/arch_spec.h"

#include "gtest/gtest.h"

namespace mcunas::searchspace {
namespace {

TEST(ArchSpecTest, CanonicalStringRoundTrips) {
  const std::string text = "r28-w0.5:k3e1|k3e4,k5e6|k7e3";
  absl::StatusOr<ArchSpec> arch = ParseArchSpec(text);
  ASSERT_TRUE(arch.ok()) << arch.status();
  EXPECT_EQ(arch->resolution, 28);
  EXPECT_EQ(arch->width_milli, 500);
  ASSERT_EQ(arch->stages.size(), 3u);
  EXPECT_EQ(arch->stages[1][1], (BlockSpec{5, 6}));
  EXPECT_EQ(CanonicalString(*arch), text);
}

TEST(ArchSpecTest, WidthsAreNormalised) {
  EXPECT_EQ(FormatWidth(1000), "1.0");
  EXPECT_EQ(FormatWidth(350), "0.35");
  EXPECT_EQ(FormatWidth(125), "0.125");
  absl::StatusOr<ArchSpec> arch = ParseArchSpec("r96-w0.50:k3e3");
  ASSERT_TRUE(arch.ok());
  EXPECT_EQ(CanonicalString(*arch), "r96-w0.5:k3e3");
  arch = ParseArchSpec("r96-w1:k3e3");
  ASSERT_TRUE(arch.ok());
  EXPECT_EQ(CanonicalString(*arch), "r96-w1.0:k3e3");
}

TEST(ArchSpecTest, HashIsFnv1aOfTheCanonicalString) {
  // Published FNV-1a 64 test vectors.
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  absl::StatusOr<ArchSpec> a = ParseArchSpec("r28-w0.5:k3e1|k3e4");
  absl::StatusOr<ArchSpec> b = ParseArchSpec("r28-w0.50:k3e1|k3e4");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(ArchHash(*a), ArchHash(*b));
  EXPECT_EQ(ArchHash(*a), Fnv1a64("r28-w0.5:k3e1|k3e4"));
  // Every width, including ones no space uses (ArchHash writes the width
  // digits itself).
  ArchSpec arch = *a;
  for (int32_t milli = -1001; milli <= 3000; ++milli) {
    arch.width_milli = milli;
    ASSERT_EQ(ArchHash(arch), Fnv1a64(CanonicalString(arch))) << milli;
  }
}

TEST(ArchSpecTest, ParseErrorsSayWhereAndWhat) {
  const struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"", "expected \"r<resolution>\" first"},
      {"r28w0.5:k3e1", "expected \"-w<width>\""},
      {"r28-w0.1234:k3e1", "at most 3 decimals"},
      {"r28-w0.5k3e1", "expected ':'"},
      {"r28-w0.5:k3e4,k5", "stage 0 block 1: expected 'e' after the kernel"},
      {"r28-w0.5:k3e4|x", "stage 1 block 0: expected 'k<kernel>'"},
      {"r28-w0.5:k3e0", "expected a positive expand ratio"},
      {"r28-w0.5:k3e4;", "unexpected ';'"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<ArchSpec> arch = ParseArchSpec(c.text);
    ASSERT_FALSE(arch.ok()) << c.text;
    EXPECT_EQ(arch.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(arch.status().message().find(c.message), std::string::npos)
        << arch.status();
    EXPECT_NE(arch.status().message().find(c.text), std::string::npos);
  }
}

}  // namespace
}  // namespace mcunas::searchspace
