#include "mcunas/supernet/supernet_checkpoint.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "checkpoint_internal.h"
#include "mcunas/common/status_macros.h"

namespace mcunas::supernet {
namespace {

constexpr char kKind[] = "elastic-supernet";
constexpr char kTeacher[] = "teacher/";

std::string List(const std::vector<int32_t>& v) {
  return absl::StrCat("[", absl::StrJoin(v, ", "), "]");
}

absl::Status Match(const std::vector<NamedValues>& saved, size_t i,
                   const std::string& name, size_t size) {
  return internal::MatchSaved(saved, i, name, size, "supernet");
}

}  // namespace

std::string SpaceDefJson(const searchspace::SpaceDef& d) {
  std::vector<std::string> widths, stages;
  for (int32_t w : d.widths_milli) {
    widths.push_back(searchspace::FormatWidth(w));
  }
  for (const searchspace::StageDef& s : d.stages) {
    stages.push_back(absl::StrCat(
        "{\"channels\": ", s.channels, ", \"stride\": ", s.stride,
        ", \"depths\": ", List(s.depths), ", \"kernels\": ", List(s.kernels),
        ", \"expands\": ", List(s.expands), "}"));
  }
  // Space names are identifiers and file stems; quotes and backslashes
  // would need escaping, so they are replaced.
  std::string name = d.name;
  for (char& c : name) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
  }
  return absl::StrCat(
      "{\"name\": \"", name, "\", \"input_channels\": ", d.input_channels,
      ", \"classes\": ", d.classes, ", \"resolutions\": ", List(d.resolutions),
      ", \"widths\": [", absl::StrJoin(widths, ", "),
      "], \"channel_divisor\": ", d.channel_divisor,
      ", \"stem\": {\"channels\": ", d.stem_channels,
      ", \"kernel\": ", d.stem_kernel, ", \"stride\": ", d.stem_stride,
      "}, \"stages\": [", absl::StrJoin(stages, ", "),
      "], \"head_channels\": ", d.head_channels, "}");
}

Checkpoint MakeSupernetCheckpoint(ElasticSupernet& net, const Sgd* sgd,
                                  const SupernetPosition& position,
                                  Mbnet* teacher) {
  Checkpoint c;
  c.config = net.config();
  c.state = position.state;
  internal::SaveState(net.Parameters(), net.BatchNormStats(), sgd, &c);
  c.metadata = {{"kind", kKind},
                {"space", SpaceDefJson(net.space().def())},
                {"phase", absl::StrCat(position.phase)},
                {"phases", position.phases},
                {"method", position.method},
                {"distill_weight", absl::StrCat(position.distill_weight)}};
  if (teacher != nullptr) {
    for (Parameter* p : teacher->Parameters()) {
      c.extra.push_back({kTeacher + p->name, p->value});
    }
    for (RunningStats* s : teacher->BatchNormStats()) {
      c.extra.push_back({absl::StrCat(kTeacher, s->name, ".mean"), s->mean});
      c.extra.push_back({absl::StrCat(kTeacher, s->name, ".var"), s->var});
    }
  }
  return c;
}

bool IsSupernetCheckpoint(const Checkpoint& ckpt) {
  return ckpt.Metadata("kind") == kKind;
}

absl::StatusOr<SupernetPosition> SupernetPositionOf(const Checkpoint& ckpt) {
  SupernetPosition p;
  p.state = ckpt.state;
  p.phases = ckpt.Metadata("phases");
  p.method = ckpt.Metadata("method");
  if (p.method.empty()) p.method = kLegacyMethod;
  if (!IsSupernetCheckpoint(ckpt) ||
      !absl::SimpleAtoi(ckpt.Metadata("phase"), &p.phase) ||
      !absl::SimpleAtof(ckpt.Metadata("distill_weight"), &p.distill_weight)) {
    return absl::InvalidArgumentError(
        "not an elastic supernet checkpoint (no phase)");
  }
  return p;
}

absl::StatusOr<std::unique_ptr<ElasticSupernet>> SupernetFromCheckpoint(
    const Checkpoint& ckpt, const std::string& source) {
  if (!IsSupernetCheckpoint(ckpt)) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": a static net's checkpoint, not an elastic supernet's"));
  }
  MCUNAS_ASSIGN_OR_RETURN(
      searchspace::SpaceDef def,
      searchspace::ParseSpaceJson(ckpt.Metadata("space"), source));
  MCUNAS_ASSIGN_OR_RETURN(searchspace::SearchSpace space,
                          searchspace::SearchSpace::Create(def));
  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<ElasticSupernet> net,
                          ElasticSupernet::Create(space, 0));
  MCUNAS_RETURN_IF_ERROR(RestoreSupernet(ckpt, net.get(), nullptr));
  return net;
}

absl::Status RestoreSupernet(const Checkpoint& ckpt, ElasticSupernet* net,
                             Sgd* sgd) {
  return internal::RestoreState(ckpt, net->Parameters(), net->BatchNormStats(),
                                "supernet", sgd);
}

absl::StatusOr<std::unique_ptr<Mbnet>> TeacherFromCheckpoint(
    const Checkpoint& ckpt) {
  if (ckpt.extra.empty()) return std::unique_ptr<Mbnet>();
  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<Mbnet> teacher,
                          Mbnet::Create(ckpt.config, 0));
  size_t at = 0;
  for (Parameter* p : teacher->Parameters()) {
    MCUNAS_RETURN_IF_ERROR(
        Match(ckpt.extra, at, kTeacher + p->name, p->value.size()));
    p->value = ckpt.extra[at++].values;
  }
  for (RunningStats* s : teacher->BatchNormStats()) {
    MCUNAS_RETURN_IF_ERROR(Match(ckpt.extra, at,
                                 absl::StrCat(kTeacher, s->name, ".mean"),
                                 s->mean.size()));
    s->mean = ckpt.extra[at++].values;
    MCUNAS_RETURN_IF_ERROR(Match(ckpt.extra, at,
                                 absl::StrCat(kTeacher, s->name, ".var"),
                                 s->var.size()));
    s->var = ckpt.extra[at++].values;
  }
  return teacher;
}

}  // namespace mcunas::supernet
