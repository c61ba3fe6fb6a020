#include "mcunas/engine/host/model_file.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "absl/strings/str_cat.h"
#include "lifetimes.h"
#include "mcunas/common/status_macros.h"

namespace mcunas::engine {

absl::Status DiagnosticToStatus(const Diagnostic& d) {
  if (d.status == Status::kOk) return absl::OkStatus();
  std::string where;
  if (d.index >= 0) {
    where = absl::StrCat(d.scope, " ", d.index, ": ");
  }
  std::string message =
      absl::StrCat("invalid model: ", where, d.what, " (", StatusName(d.status));
  if (d.value != 0 || d.limit != 0) {
    absl::StrAppend(&message, ", value ", d.value, ", limit ", d.limit);
  }
  absl::StrAppend(&message, ")");
  switch (d.status) {
    case Status::kArenaTooSmall:
      return absl::ResourceExhaustedError(message);
    case Status::kUnsupported:
      return absl::UnimplementedError(message);
    default:
      return absl::InvalidArgumentError(message);
  }
}

absl::StatusOr<std::unique_ptr<LoadedModel>> LoadedModel::FromBytes(
    const uint8_t* bytes, size_t size) {
  if (size > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("model larger than 4 GiB");
  }
  auto loaded = std::unique_ptr<LoadedModel>(new LoadedModel());
  loaded->storage_.reset(new uint8_t[size + kBlobAlignment]);
  const uintptr_t base = reinterpret_cast<uintptr_t>(loaded->storage_.get());
  const uintptr_t aligned =
      (base + kBlobAlignment - 1) / kBlobAlignment * kBlobAlignment;
  uint8_t* blob = loaded->storage_.get() + (aligned - base);
  if (size > 0) std::memcpy(blob, bytes, size);
  loaded->blob_ = blob;
  loaded->size_ = static_cast<uint32_t>(size);
  Diagnostic diagnostic;
  if (Model::Load(blob, loaded->size_, LoadOptions{}, &loaded->model_,
                  &diagnostic) != Status::kOk) {
    return DiagnosticToStatus(diagnostic);
  }
  MCUNAS_RETURN_IF_ERROR(ValidatePlan(loaded->model_));
  return loaded;
}

absl::StatusOr<std::unique_ptr<LoadedModel>> LoadedModel::FromFile(
    const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                                   std::istreambuf_iterator<char>());
  if (file.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  auto loaded = FromBytes(bytes);
  if (!loaded.ok()) {
    return absl::Status(loaded.status().code(),
                        absl::StrCat(path, ": ", loaded.status().message()));
  }
  return loaded;
}

absl::Status ValidatePlan(const Model& model) {
  // An arena range and the ops during which it must hold its value.
  struct LiveRange {
    uint32_t offset;
    uint32_t bytes;
    Lifetime lifetime;
    int32_t tensor;  // -1 for scratch
  };
  const int32_t n_ops = model.op_count();
  const std::vector<Lifetime> lifetimes = ArenaLifetimes(model);
  std::vector<LiveRange> ranges;
  for (uint16_t t = 0; t < model.tensor_count(); ++t) {
    if (!lifetimes[t].used()) continue;
    const TensorRecord& r = model.tensor(t);
    ranges.push_back({r.offset, r.bytes, lifetimes[t], t});
  }
  for (int32_t i = 0; i < n_ops; ++i) {
    const OpRecord& op = model.op(static_cast<uint16_t>(i));
    if (op.scratch_bytes > 0) {
      ranges.push_back({op.scratch_offset, op.scratch_bytes, {i, i}, -1});
    }
  }
  // Tensors joined by in-place ops (an in-place depthwise or a reshape
  // alias) are one buffer: they may share bytes while live.
  std::vector<int32_t> group(model.tensor_count());
  for (size_t t = 0; t < group.size(); ++t) group[t] = static_cast<int32_t>(t);
  const auto root = [&](int32_t t) {
    while (group[t] != t) t = group[t] = group[group[t]];
    return t;
  };
  for (int32_t i = 0; i < n_ops; ++i) {
    const OpRecord& op = model.op(static_cast<uint16_t>(i));
    if ((op.flags & kOpFlagInPlace) != 0) {
      group[root(op.output)] = root(op.inputs[0]);
    }
  }
  // An in-place depthwise overwrites its input's bytes: nothing else in its
  // group that already held a value may be read after it.
  for (int32_t i = 0; i < n_ops; ++i) {
    const OpRecord& op = model.op(static_cast<uint16_t>(i));
    if ((op.flags & kOpFlagInPlace) == 0 ||
        op.type != static_cast<uint8_t>(OpType::kDepthwiseConv2D)) {
      continue;
    }
    for (uint16_t t = 0; t < model.tensor_count(); ++t) {
      if (t == op.output || root(t) != root(op.output) ||
          !lifetimes[t].used() || lifetimes[t].first > i ||
          lifetimes[t].last <= i) {
        continue;
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid model: in-place op ", i, " overwrites tensor ", t,
          ", which is read until op ", lifetimes[t].last));
    }
  }
  const auto in_place_pair = [&](const LiveRange& a, const LiveRange& b) {
    return a.tensor >= 0 && b.tensor >= 0 && root(a.tensor) == root(b.tensor);
  };
  for (size_t i = 0; i < ranges.size(); ++i) {
    for (size_t j = i + 1; j < ranges.size(); ++j) {
      const LiveRange& a = ranges[i];
      const LiveRange& b = ranges[j];
      const bool same_time = a.lifetime.first <= b.lifetime.last &&
                             b.lifetime.first <= a.lifetime.last;
      const bool same_bytes =
          a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
      if (same_time && same_bytes && !in_place_pair(a, b)) {
        const auto name = [](const LiveRange& r) {
          return r.tensor >= 0 ? absl::StrCat("tensor ", r.tensor)
                               : absl::StrCat("scratch of op ",
                                              r.lifetime.first);
        };
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid model: memory plan overlaps ", name(a), " and ", name(b),
            " while both are live"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace mcunas::engine
