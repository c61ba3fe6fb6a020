// SpaceDef from JSON. Every value is type-checked before it is read, so no
// exception escapes nlohmann/json; errors name the source, the field path
// and the value.
#include <cmath>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "json_util.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/searchspace/search_space.h"

namespace mcunas::searchspace {
namespace {

class Reader {
 public:
  explicit Reader(absl::string_view source) : source_(source) {}

  absl::Status Fail(const std::string& path, const std::string& message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": ", path, ": ", message));
  }

  static std::string Show(const Json& value) { return value.dump(); }

  absl::Status CheckKeys(const Json& object, const std::string& path,
                         const std::set<std::string>& allowed) const {
    if (!object.is_object()) {
      return Fail(path.empty() ? "(top level)" : path,
                  absl::StrCat("expected an object, got ", Show(object)));
    }
    for (const auto& item : object.items()) {
      if (allowed.count(item.key()) == 0) {
        return Fail(Join(path, item.key()), "unknown field");
      }
    }
    return absl::OkStatus();
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : absl::StrCat(path, ".", key);
  }

  absl::StatusOr<int32_t> Int(const Json& value, const std::string& path,
                              int32_t min) const {
    if (!value.is_number_integer() || value.get<int64_t>() < min ||
        value.get<int64_t>() > 1000000) {
      return Fail(path, absl::StrCat("expected an integer >= ", min, ", got ",
                                     Show(value)));
    }
    return static_cast<int32_t>(value.get<int64_t>());
  }

  absl::StatusOr<int32_t> Field(const Json& object, const std::string& path,
                                const char* key, int32_t min,
                                std::optional<int32_t> fallback) const {
    const auto it = object.find(key);
    if (it == object.end()) {
      if (fallback) return *fallback;
      return Fail(Join(path, key), "missing");
    }
    return Int(*it, Join(path, key), min);
  }

  absl::StatusOr<std::vector<int32_t>> IntList(
      const Json& object, const std::string& path, const char* key,
      const std::vector<int32_t>* fallback) const {
    const auto it = object.find(key);
    const std::string at = Join(path, key);
    if (it == object.end()) {
      if (fallback != nullptr && !fallback->empty()) return *fallback;
      return Fail(at, "missing (and no default at the top level)");
    }
    if (!it->is_array() || it->empty()) {
      return Fail(at,
                  absl::StrCat("expected a non-empty list, got ", Show(*it)));
    }
    std::vector<int32_t> values;
    for (size_t i = 0; i < it->size(); ++i) {
      MCUNAS_ASSIGN_OR_RETURN(int32_t v,
                              Int((*it)[i], absl::StrCat(at, "[", i, "]"), 1));
      values.push_back(v);
    }
    return values;
  }

  // Widths as thousandths: 0.35 -> 350; finer values are rejected.
  absl::StatusOr<std::vector<int32_t>> Widths(const Json& object) const {
    const auto it = object.find("widths");
    if (it == object.end()) return Fail("widths", "missing");
    if (!it->is_array() || it->empty()) {
      return Fail("widths",
                  absl::StrCat("expected a non-empty list, got ", Show(*it)));
    }
    std::vector<int32_t> values;
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& v = (*it)[i];
      const std::string at = absl::StrCat("widths[", i, "]");
      if (!v.is_number()) {
        return Fail(at, absl::StrCat("expected a number, got ", Show(v)));
      }
      const double w = v.get<double>();
      const double milli = std::round(w * 1000.0);
      if (!(w > 0.0) || w > 4.0 || std::abs(w * 1000.0 - milli) > 1e-6) {
        return Fail(at, absl::StrCat("expected a width in (0, 4] with at most "
                                     "3 decimals, got ",
                                     Show(v)));
      }
      values.push_back(static_cast<int32_t>(milli));
    }
    return values;
  }

 private:
  std::string source_;
};

}  // namespace

absl::StatusOr<SpaceDef> ParseSpaceJson(absl::string_view json,
                                        absl::string_view source) {
  MCUNAS_ASSIGN_OR_RETURN(const Json root, ParseJson(json, source));
  Reader r(source);
  MCUNAS_RETURN_IF_ERROR(
      r.CheckKeys(root, "",
                  {"name", "description", "input_channels", "classes",
                   "resolutions", "widths", "channel_divisor", "stem", "depths",
                   "kernels", "expands", "stages", "head_channels"}));
  SpaceDef d;
  const auto name = root.find("name");
  if (name == root.end() || !name->is_string() ||
      name->get<std::string>().empty()) {
    return r.Fail("name", "expected a non-empty string");
  }
  d.name = name->get<std::string>();
  const auto description = root.find("description");
  if (description != root.end() && !description->is_string()) {
    return r.Fail("description", "expected a string");
  }
  MCUNAS_ASSIGN_OR_RETURN(d.input_channels,
                          r.Field(root, "", "input_channels", 1, std::nullopt));
  MCUNAS_ASSIGN_OR_RETURN(d.classes,
                          r.Field(root, "", "classes", 1, std::nullopt));
  MCUNAS_ASSIGN_OR_RETURN(d.resolutions,
                          r.IntList(root, "", "resolutions", nullptr));
  MCUNAS_ASSIGN_OR_RETURN(d.widths_milli, r.Widths(root));
  MCUNAS_ASSIGN_OR_RETURN(d.channel_divisor,
                          r.Field(root, "", "channel_divisor", 1, 8));
  MCUNAS_ASSIGN_OR_RETURN(d.head_channels,
                          r.Field(root, "", "head_channels", 0, 0));

  const auto stem = root.find("stem");
  if (stem == root.end()) return r.Fail("stem", "missing");
  MCUNAS_RETURN_IF_ERROR(
      r.CheckKeys(*stem, "stem", {"channels", "kernel", "stride"}));
  MCUNAS_ASSIGN_OR_RETURN(d.stem_channels,
                          r.Field(*stem, "stem", "channels", 1, std::nullopt));
  MCUNAS_ASSIGN_OR_RETURN(d.stem_kernel,
                          r.Field(*stem, "stem", "kernel", 1, 3));
  MCUNAS_ASSIGN_OR_RETURN(d.stem_stride,
                          r.Field(*stem, "stem", "stride", 1, 2));

  // Top-level depths/kernels/expands are defaults for the stages.
  std::vector<int32_t> depths, kernels, expands;
  for (auto [key, out] :
       {std::pair{"depths", &depths}, std::pair{"kernels", &kernels},
        std::pair{"expands", &expands}}) {
    if (root.contains(key)) {
      MCUNAS_ASSIGN_OR_RETURN(*out, r.IntList(root, "", key, nullptr));
    }
  }
  const auto stages = root.find("stages");
  if (stages == root.end() || !stages->is_array() || stages->empty()) {
    return r.Fail("stages", "expected a non-empty list of stages");
  }
  for (size_t i = 0; i < stages->size(); ++i) {
    const Json& s = (*stages)[i];
    const std::string at = absl::StrCat("stages[", i, "]");
    MCUNAS_RETURN_IF_ERROR(r.CheckKeys(
        s, at, {"channels", "stride", "depths", "kernels", "expands"}));
    StageDef st;
    MCUNAS_ASSIGN_OR_RETURN(st.channels,
                            r.Field(s, at, "channels", 1, std::nullopt));
    MCUNAS_ASSIGN_OR_RETURN(st.stride, r.Field(s, at, "stride", 1, 1));
    MCUNAS_ASSIGN_OR_RETURN(st.depths, r.IntList(s, at, "depths", &depths));
    MCUNAS_ASSIGN_OR_RETURN(st.kernels, r.IntList(s, at, "kernels", &kernels));
    MCUNAS_ASSIGN_OR_RETURN(st.expands, r.IntList(s, at, "expands", &expands));
    d.stages.push_back(std::move(st));
  }
  // Range and order checks are SearchSpace::Create's; run them here too so
  // a bad file fails with its name.
  const absl::StatusOr<SearchSpace> space = SearchSpace::Create(d);
  if (!space.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", space.status().message()));
  }
  return d;
}

absl::StatusOr<SpaceDef> LoadSpaceFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::NotFoundError(absl::StrCat("cannot open space file ", path));
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  return ParseSpaceJson(buffer.str(), path);
}

}  // namespace mcunas::searchspace
