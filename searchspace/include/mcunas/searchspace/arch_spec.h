// ArchSpec: one architecture of an MBNet space (see search_space.h) as plain
// values — input resolution R, width multiplier W, and per stage the kernel
// and expand ratio of each of its blocks (the stage's depth is the number of
// blocks). Whether the values are allowed is the space's business
// (SearchSpace::Validate); this header only knows the syntax.
//
// The canonical string is the identity of an architecture everywhere (job
// rows, artifact names, caches):
//
//   r28-w0.5:k3e1|k3e4,k5e6|k7e3,k3e3
//
// "r" resolution, "w" width multiplier (shortest decimal, at least one
// fractional digit), then the stages separated by "|", each a comma-separated
// list of blocks "k<kernel>e<expand>". ArchHash is FNV-1a 64 of that string,
// so it is the same on every platform and build. Plain values;
// thread-compatible.
#ifndef MCUNAS_SEARCHSPACE_ARCH_SPEC_H_
#define MCUNAS_SEARCHSPACE_ARCH_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mcunas::searchspace {

struct BlockSpec {
  int32_t kernel = 3;  // depthwise kernel size
  int32_t expand = 6;  // expansion ratio; 1 = no expand conv
  bool operator==(const BlockSpec& o) const {
    return kernel == o.kernel && expand == o.expand;
  }
  bool operator!=(const BlockSpec& o) const { return !(*this == o); }
};

struct ArchSpec {
  int32_t resolution = 0;
  // The width multiplier W in thousandths (500 = 0.5): exact, so equal
  // widths compare and hash equal.
  int32_t width_milli = 0;
  std::vector<std::vector<BlockSpec>> stages;  // stage s has depth size()

  double width() const { return width_milli / 1000.0; }
  bool operator==(const ArchSpec& o) const {
    return resolution == o.resolution && width_milli == o.width_milli &&
           stages == o.stages;
  }
  bool operator!=(const ArchSpec& o) const { return !(*this == o); }
};

// "0.5", "1.0", "0.35", "0.125".
std::string FormatWidth(int32_t width_milli);

// "r28-w0.5:k3e1|k3e4,k5e6".
std::string CanonicalString(const ArchSpec& arch);

// FNV-1a 64 of CanonicalString(arch).
uint64_t ArchHash(const ArchSpec& arch);
uint64_t Fnv1a64(absl::string_view bytes);

// Parses the canonical form (widths with up to three decimals, e.g. "w0.50",
// are accepted and normalised). Fails with InvalidArgument quoting the text
// and saying where and what was expected, e.g.
//   arch "r28-w0.5:k3e4,k5" : stage 0 block 1: expected 'e' after the kernel
absl::StatusOr<ArchSpec> ParseArchSpec(absl::string_view text);

}  // namespace mcunas::searchspace

#endif  // MCUNAS_SEARCHSPACE_ARCH_SPEC_H_
