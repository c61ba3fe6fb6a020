// The MBNet search space (MobileNetV2-like, as in Once-for-All and MCUNet):
// a stem conv, then stages of inverted-residual blocks, a 1x1 head conv, a
// global average pool and a classifier. A space definition (SpaceDef) is
// data, loaded from JSON (searchspace/spaces/*.json; format in
// docs/searchspace.md); it says which resolutions R and width multipliers W
// exist, each stage's width and stride, and which depths, kernels and expand
// ratios a stage allows. An ArchSpec picks one of each.
//
// For the strategies, a space is also a list of discrete decisions (a
// "genome"): R, W, then per stage its depth and, for every block slot up to
// the stage's largest depth, a kernel and an expand ratio. Slots past the
// chosen depth are inactive: they are kept (so evolution can carry them, as
// OFA does) but do not change the architecture.
//
//   MCUNAS_ASSIGN_OR_RETURN(SearchSpace space,
//                           SearchSpace::Builtin("fashion_mnist"));
//   MCUNAS_ASSIGN_OR_RETURN(ArchSpec arch, space.Parse("r28-w0.5:k3e1|..."));
//
// SearchSpace is immutable after creation; thread-safe to share.
#ifndef MCUNAS_SEARCHSPACE_SEARCH_SPACE_H_
#define MCUNAS_SEARCHSPACE_SEARCH_SPACE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mcunas/searchspace/arch_spec.h"

namespace mcunas::searchspace {

class Rng;

struct StageDef {
  int32_t channels = 16;         // output channels before W
  int32_t stride = 1;            // of the first block; the others use 1
  std::vector<int32_t> depths;   // allowed block counts
  std::vector<int32_t> kernels;  // allowed depthwise kernels
  std::vector<int32_t> expands;  // allowed expand ratios (1 = no expand)
};

struct SpaceDef {
  std::string name;
  int32_t input_channels = 3;
  int32_t classes = 10;
  std::vector<int32_t> resolutions;   // ascending
  std::vector<int32_t> widths_milli;  // W in thousandths, ascending
  int32_t channel_divisor = 8;  // scaled channels round to multiples of it
  int32_t stem_channels = 32;   // before W
  int32_t stem_kernel = 3;
  int32_t stem_stride = 2;
  std::vector<StageDef> stages;
  int32_t head_channels = 0;  // before W; 0 = no head conv
};

// Parses a JSON space definition; `source` (a file name) prefixes every
// error, which names the field and the value, e.g.
//   spaces/x.json: stages[2].kernels[1]: expected a positive integer, got -3
absl::StatusOr<SpaceDef> ParseSpaceJson(absl::string_view json,
                                        absl::string_view source);
absl::StatusOr<SpaceDef> LoadSpaceFile(const std::string& path);

// One discrete decision of the genome.
struct Decision {
  enum class Kind : uint8_t { kResolution, kWidth, kDepth, kKernel, kExpand };
  Kind kind;
  int32_t stage = -1;  // kDepth, kKernel, kExpand
  int32_t slot = -1;   // kKernel, kExpand: block slot in the stage
  int32_t choices = 1;
};
using Genome = std::vector<int32_t>;  // a choice index per decision

class SearchSpace {
 public:
  // Checks the definition (non-empty choice lists, positive sizes, sorted
  // R and W, at most 255 for kernels and strides) and indexes it.
  static absl::StatusOr<SearchSpace> Create(SpaceDef def);
  // The spaces shipped in searchspace/spaces/ (compiled in): "fashion_mnist"
  // (R 16-32, 1 channel, 10 classes) and "mcunet" (R 96-160, 3 channels).
  static absl::StatusOr<SearchSpace> Builtin(absl::string_view name);
  static std::vector<std::string> BuiltinNames();

  const SpaceDef& def() const { return def_; }

  // The same space with R and W fixed (TinyNAS stage 2 searches in one).
  // Fails when either is not in this space.
  absl::StatusOr<SearchSpace> Restrict(int32_t resolution,
                                       int32_t width_milli) const;

  // OK when every choice of `arch` is allowed; else InvalidArgument naming
  // the stage, block, field and value and the allowed values.
  absl::Status Validate(const ArchSpec& arch) const;
  // ParseArchSpec + Validate.
  absl::StatusOr<ArchSpec> Parse(absl::string_view text) const;

  // Channels of a tensor of `channels` before W, at width W:
  // MobileNet's make_divisible (nearest multiple of the divisor, at least
  // the divisor, not below 90% of channels * W).
  int32_t ScaledChannels(int32_t channels, int32_t width_milli) const;

  // One-hot features for predictors: R, W, then per stage and block slot
  // (up to the stage's largest depth) the kernel and the expand ratio; an
  // inactive slot is all zeros, which encodes the depth.
  std::vector<float> Encode(const ArchSpec& arch) const;
  size_t EncodingSize() const { return encoding_size_; }

  const std::vector<Decision>& decisions() const { return decisions_; }
  // REQUIRES: genome.size() == decisions().size(), each index < choices.
  ArchSpec Decode(const Genome& genome) const;
  // The genome of a valid `arch`, inactive slots set to choice 0.
  Genome EncodeGenome(const ArchSpec& arch) const;
  // Whether decision `d` changes the architecture for this genome.
  bool Active(const Genome& genome, size_t d) const;

  // A uniformly random architecture (every distinct ArchSpec equally
  // likely: depth d of a stage is drawn with weight (choices per block)^d),
  // as a genome whose inactive slots are uniform too.
  Genome SampleGenome(Rng& rng) const;
  // The architecture with the smallest depth, kernel and expand ratio
  // everywhere (its index 0 choices), at (R, W).
  ArchSpec Smallest(int32_t resolution, int32_t width_milli) const;

 private:
  explicit SearchSpace(SpaceDef def);

  SpaceDef def_;
  std::vector<Decision> decisions_;
  std::vector<int32_t> depth_decision_;  // per stage: its kDepth decision
  size_t encoding_size_ = 0;
};

}  // namespace mcunas::searchspace

#endif  // MCUNAS_SEARCHSPACE_SEARCH_SPACE_H_
