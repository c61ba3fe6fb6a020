#include "mcunas/searchspace/search_space.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "builtin_spaces.h"
#include "mcunas/common/status_macros.h"
#include "rng.h"

namespace mcunas::searchspace {
namespace {

int32_t IndexOf(const std::vector<int32_t>& list, int32_t value) {
  const auto it = std::find(list.begin(), list.end(), value);
  return it == list.end() ? -1 : static_cast<int32_t>(it - list.begin());
}

int32_t MaxOf(const std::vector<int32_t>& list) {
  return *std::max_element(list.begin(), list.end());
}

absl::Status CheckChoices(const std::string& field,
                          const std::vector<int32_t>& values, int32_t max) {
  if (values.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": empty"));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 1 || values[i] > max) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "]: ", values[i], " not in 1..", max));
    }
    if (IndexOf(values, values[i]) != static_cast<int32_t>(i)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "]: ", values[i], " repeated"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckAscending(const std::string& field,
                            const std::vector<int32_t>& values) {
  if (!std::is_sorted(values.begin(), values.end())) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be ascending"));
  }
  return absl::OkStatus();
}

absl::Status CheckDef(const SpaceDef& d) {
  const auto fail = [&](const std::string& message) {
    return absl::InvalidArgumentError(
        absl::StrCat("space '", d.name, "': ", message));
  };
  const auto positive = [&](const char* field, int32_t v,
                            int32_t max) -> absl::Status {
    if (v < 1 || v > max) {
      return fail(absl::StrCat(field, ": ", v, " not in 1..", max));
    }
    return absl::OkStatus();
  };
  MCUNAS_RETURN_IF_ERROR(positive("input_channels", d.input_channels, 4096));
  MCUNAS_RETURN_IF_ERROR(positive("classes", d.classes, 65535));
  MCUNAS_RETURN_IF_ERROR(positive("channel_divisor", d.channel_divisor, 256));
  MCUNAS_RETURN_IF_ERROR(positive("stem.channels", d.stem_channels, 4096));
  MCUNAS_RETURN_IF_ERROR(positive("stem.kernel", d.stem_kernel, 255));
  MCUNAS_RETURN_IF_ERROR(positive("stem.stride", d.stem_stride, 255));
  if (d.head_channels < 0 || d.head_channels > 8192) {
    return fail(
        absl::StrCat("head_channels: ", d.head_channels, " not in 0..8192"));
  }
  absl::Status s = CheckChoices("resolutions", d.resolutions, 4096);
  if (s.ok()) s = CheckAscending("resolutions", d.resolutions);
  if (s.ok()) s = CheckChoices("widths (in thousandths)", d.widths_milli, 4000);
  if (s.ok()) s = CheckAscending("widths", d.widths_milli);
  if (!s.ok()) return fail(std::string(s.message()));
  if (d.stages.empty()) return fail("stages: empty");
  for (size_t i = 0; i < d.stages.size(); ++i) {
    const StageDef& st = d.stages[i];
    const std::string at = absl::StrCat("stages[", i, "]");
    MCUNAS_RETURN_IF_ERROR(
        positive((at + ".channels").c_str(), st.channels, 8192));
    MCUNAS_RETURN_IF_ERROR(positive((at + ".stride").c_str(), st.stride, 255));
    s = CheckChoices(at + ".depths", st.depths, 64);
    if (s.ok()) s = CheckAscending(at + ".depths", st.depths);
    if (s.ok()) s = CheckChoices(at + ".kernels", st.kernels, 255);
    if (s.ok()) s = CheckAscending(at + ".kernels", st.kernels);
    if (s.ok()) s = CheckChoices(at + ".expands", st.expands, 64);
    if (s.ok()) s = CheckAscending(at + ".expands", st.expands);
    if (!s.ok()) return fail(std::string(s.message()));
    // Uniform sampling weighs depth d by (kernels * expands)^(d - min depth)
    // in 64 bits.
    const double bits =
        (st.depths.back() - st.depths.front()) *
        std::log2(static_cast<double>(st.kernels.size() * st.expands.size()));
    if (bits > 60) return fail(at + ": too many architectures per stage");
  }
  return absl::OkStatus();
}

std::string ListString(const std::vector<int32_t>& values) {
  return absl::StrCat("{", absl::StrJoin(values, ","), "}");
}

}  // namespace

SearchSpace::SearchSpace(SpaceDef def) : def_(std::move(def)) {
  using Kind = Decision::Kind;
  decisions_.push_back({Kind::kResolution, -1, -1,
                        static_cast<int32_t>(def_.resolutions.size())});
  decisions_.push_back(
      {Kind::kWidth, -1, -1, static_cast<int32_t>(def_.widths_milli.size())});
  encoding_size_ = def_.resolutions.size() + def_.widths_milli.size();
  for (size_t s = 0; s < def_.stages.size(); ++s) {
    const StageDef& st = def_.stages[s];
    const int32_t stage = static_cast<int32_t>(s);
    depth_decision_.push_back(static_cast<int32_t>(decisions_.size()));
    decisions_.push_back(
        {Kind::kDepth, stage, -1, static_cast<int32_t>(st.depths.size())});
    for (int32_t b = 0; b < MaxOf(st.depths); ++b) {
      decisions_.push_back(
          {Kind::kKernel, stage, b, static_cast<int32_t>(st.kernels.size())});
      decisions_.push_back(
          {Kind::kExpand, stage, b, static_cast<int32_t>(st.expands.size())});
      encoding_size_ += st.kernels.size() + st.expands.size();
    }
  }
}

absl::StatusOr<SearchSpace> SearchSpace::Create(SpaceDef def) {
  MCUNAS_RETURN_IF_ERROR(CheckDef(def));
  return SearchSpace(std::move(def));
}

absl::StatusOr<SearchSpace> SearchSpace::Builtin(absl::string_view name) {
  for (const BuiltinSpaceText& builtin : BuiltinSpaceTexts()) {
    if (builtin.name != name) continue;
    MCUNAS_ASSIGN_OR_RETURN(
        SpaceDef def,
        ParseSpaceJson(builtin.json, absl::StrCat(builtin.name, ".json")));
    return Create(std::move(def));
  }
  return absl::NotFoundError(
      absl::StrCat("no built-in space '", name,
                   "' (have: ", absl::StrJoin(BuiltinNames(), ", "), ")"));
}

std::vector<std::string> SearchSpace::BuiltinNames() {
  std::vector<std::string> names;
  for (const BuiltinSpaceText& b : BuiltinSpaceTexts()) names.push_back(b.name);
  return names;
}

absl::StatusOr<SearchSpace> SearchSpace::Restrict(int32_t resolution,
                                                  int32_t width_milli) const {
  if (IndexOf(def_.resolutions, resolution) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("space '", def_.name, "' has no resolution ", resolution,
                     " (allowed ", ListString(def_.resolutions), ")"));
  }
  if (IndexOf(def_.widths_milli, width_milli) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "space '", def_.name, "' has no width ", FormatWidth(width_milli)));
  }
  SpaceDef def = def_;
  def.resolutions = {resolution};
  def.widths_milli = {width_milli};
  return SearchSpace(std::move(def));
}

absl::Status SearchSpace::Validate(const ArchSpec& arch) const {
  const auto fail = [&](const std::string& message) {
    return absl::InvalidArgumentError(
        absl::StrCat("arch \"", CanonicalString(arch), "\" not in space '",
                     def_.name, "': ", message));
  };
  if (IndexOf(def_.resolutions, arch.resolution) < 0) {
    return fail(absl::StrCat("resolution ", arch.resolution, " not in ",
                             ListString(def_.resolutions)));
  }
  if (IndexOf(def_.widths_milli, arch.width_milli) < 0) {
    std::vector<std::string> widths;
    for (int32_t w : def_.widths_milli) widths.push_back(FormatWidth(w));
    return fail(absl::StrCat("width ", FormatWidth(arch.width_milli),
                             " not in {", absl::StrJoin(widths, ","), "}"));
  }
  if (arch.stages.size() != def_.stages.size()) {
    return fail(absl::StrCat("has ", arch.stages.size(), " stages, the space ",
                             def_.stages.size()));
  }
  for (size_t s = 0; s < arch.stages.size(); ++s) {
    const StageDef& st = def_.stages[s];
    const int32_t depth = static_cast<int32_t>(arch.stages[s].size());
    if (IndexOf(st.depths, depth) < 0) {
      return fail(absl::StrCat("stage ", s, ": depth ", depth, " not in ",
                               ListString(st.depths)));
    }
    for (size_t b = 0; b < arch.stages[s].size(); ++b) {
      const BlockSpec& block = arch.stages[s][b];
      if (IndexOf(st.kernels, block.kernel) < 0) {
        return fail(absl::StrCat("stage ", s, " block ", b, ": kernel ",
                                 block.kernel, " not in ",
                                 ListString(st.kernels)));
      }
      if (IndexOf(st.expands, block.expand) < 0) {
        return fail(absl::StrCat("stage ", s, " block ", b, ": expand ",
                                 block.expand, " not in ",
                                 ListString(st.expands)));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ArchSpec> SearchSpace::Parse(absl::string_view text) const {
  MCUNAS_ASSIGN_OR_RETURN(ArchSpec arch, ParseArchSpec(text));
  MCUNAS_RETURN_IF_ERROR(Validate(arch));
  return arch;
}

int32_t SearchSpace::ScaledChannels(int32_t channels,
                                    int32_t width_milli) const {
  const int32_t d = def_.channel_divisor;
  const double v = channels * (width_milli / 1000.0);
  int32_t c = std::max(d, static_cast<int32_t>(v + d / 2.0) / d * d);
  if (c < 0.9 * v) c += d;
  return c;
}

std::vector<float> SearchSpace::Encode(const ArchSpec& arch) const {
  std::vector<float> x(encoding_size_, 0.0f);
  size_t at = 0;
  const auto one_hot = [&](const std::vector<int32_t>& list, int32_t value,
                           bool active) {
    const int32_t i = IndexOf(list, value);
    if (active && i >= 0) x[at + i] = 1.0f;
    at += list.size();
  };
  one_hot(def_.resolutions, arch.resolution, true);
  one_hot(def_.widths_milli, arch.width_milli, true);
  for (size_t s = 0; s < def_.stages.size(); ++s) {
    const StageDef& st = def_.stages[s];
    for (int32_t b = 0; b < MaxOf(st.depths); ++b) {
      const bool active = s < arch.stages.size() &&
                          b < static_cast<int32_t>(arch.stages[s].size());
      const BlockSpec block = active ? arch.stages[s][b] : BlockSpec{};
      one_hot(st.kernels, block.kernel, active);
      one_hot(st.expands, block.expand, active);
    }
  }
  return x;
}

ArchSpec SearchSpace::Decode(const Genome& genome) const {
  ArchSpec arch;
  arch.resolution = def_.resolutions[genome[0]];
  arch.width_milli = def_.widths_milli[genome[1]];
  arch.stages.resize(def_.stages.size());
  for (size_t s = 0; s < def_.stages.size(); ++s) {
    const StageDef& st = def_.stages[s];
    const int32_t at = depth_decision_[s];
    const int32_t depth = st.depths[genome[at]];
    arch.stages[s].resize(depth);
    for (int32_t b = 0; b < depth; ++b) {
      arch.stages[s][b].kernel = st.kernels[genome[at + 1 + 2 * b]];
      arch.stages[s][b].expand = st.expands[genome[at + 2 + 2 * b]];
    }
  }
  return arch;
}

Genome SearchSpace::EncodeGenome(const ArchSpec& arch) const {
  Genome g(decisions_.size(), 0);
  g[0] = std::max(0, IndexOf(def_.resolutions, arch.resolution));
  g[1] = std::max(0, IndexOf(def_.widths_milli, arch.width_milli));
  for (size_t s = 0; s < def_.stages.size() && s < arch.stages.size(); ++s) {
    const StageDef& st = def_.stages[s];
    const int32_t at = depth_decision_[s];
    const int32_t depth = static_cast<int32_t>(arch.stages[s].size());
    g[at] = std::max(0, IndexOf(st.depths, depth));
    for (int32_t b = 0; b < depth && b < MaxOf(st.depths); ++b) {
      g[at + 1 + 2 * b] =
          std::max(0, IndexOf(st.kernels, arch.stages[s][b].kernel));
      g[at + 2 + 2 * b] =
          std::max(0, IndexOf(st.expands, arch.stages[s][b].expand));
    }
  }
  return g;
}

bool SearchSpace::Active(const Genome& genome, size_t d) const {
  const Decision& decision = decisions_[d];
  if (decision.slot < 0) return true;
  const StageDef& st = def_.stages[decision.stage];
  return decision.slot < st.depths[genome[depth_decision_[decision.stage]]];
}

Genome SearchSpace::SampleGenome(Rng& rng) const {
  Genome g(decisions_.size(), 0);
  for (size_t d = 0; d < decisions_.size(); ++d) {
    const Decision& decision = decisions_[d];
    if (decision.kind != Decision::Kind::kDepth) {
      g[d] = rng.Below(decision.choices);
      continue;
    }
    // Depth d has (kernels * expands)^d distinct block lists.
    const StageDef& st = def_.stages[decision.stage];
    const uint64_t per_block = st.kernels.size() * st.expands.size();
    std::vector<uint64_t> weights;
    uint64_t total = 0;
    for (int32_t depth : st.depths) {
      uint64_t w = 1;
      for (int32_t i = st.depths.front(); i < depth; ++i) w *= per_block;
      weights.push_back(w);
      total += w;
    }
    uint64_t x = rng.Below64(total);
    int32_t pick = 0;
    while (x >= weights[pick]) x -= weights[pick++];
    g[d] = pick;
  }
  return g;
}

ArchSpec SearchSpace::Smallest(int32_t resolution, int32_t width_milli) const {
  Genome g(decisions_.size(), 0);
  g[0] = std::max(0, IndexOf(def_.resolutions, resolution));
  g[1] = std::max(0, IndexOf(def_.widths_milli, width_milli));
  return Decode(g);
}

}  // namespace mcunas::searchspace
