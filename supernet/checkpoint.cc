#include "mcunas/supernet/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "checkpoint_internal.h"
#include "mcunas/common/status_macros.h"

namespace mcunas::supernet {
namespace {

constexpr char kMagic[8] = {'M', 'C', 'U', 'N', 'S', 'C', 'K', '1'};
// Version 2 added metadata and extra tensors; version 1 files still read.
constexpr uint32_t kVersion = 2;
// Refuse absurd sizes from a corrupt header before allocating.
constexpr uint64_t kMaxPayload = uint64_t{4} << 30;

class Writer {
 public:
  template <typename T>
  void Put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void PutString(const std::string& s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void PutValues(const std::vector<NamedValues>& list) {
    Put<uint32_t>(static_cast<uint32_t>(list.size()));
    for (const NamedValues& nv : list) {
      PutString(nv.name);
      Put<uint64_t>(nv.values.size());
      const auto* p = reinterpret_cast<const uint8_t*>(nv.values.data());
      bytes_.insert(bytes_.end(), p, p + nv.values.size() * sizeof(float));
    }
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  template <typename T>
  bool Get(T* v) {
    if (size_ - pos_ < sizeof(T)) return false;
    std::memcpy(v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetString(std::string* s) {
    uint32_t n;
    if (!Get(&n) || size_ - pos_ < n) return false;
    s->assign(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return true;
  }
  bool GetValues(std::vector<NamedValues>* list) {
    uint32_t count;
    if (!Get(&count)) return false;
    list->clear();
    for (uint32_t i = 0; i < count; ++i) {
      NamedValues nv;
      uint64_t n;
      if (!GetString(&nv.name) || !Get(&n)) return false;
      if (n > (size_ - pos_) / sizeof(float)) return false;
      nv.values.resize(n);
      std::memcpy(nv.values.data(), data_ + pos_, n * sizeof(float));
      pos_ += n * sizeof(float);
      list->push_back(std::move(nv));
    }
    return true;
  }
  bool done() const { return pos_ == size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void PutConfig(Writer& w, const MbnetConfig& c) {
  w.Put<int32_t>(c.resolution);
  w.Put<int32_t>(c.input_channels);
  w.Put<int32_t>(c.stem_channels);
  w.Put<int32_t>(c.stem_kernel);
  w.Put<int32_t>(c.stem_stride);
  w.Put<int32_t>(c.head_channels);
  w.Put<int32_t>(c.classes);
  w.Put<float>(c.bn_eps);
  w.Put<float>(c.bn_momentum);
  w.Put<uint32_t>(static_cast<uint32_t>(c.stages.size()));
  for (const MbnetStageConfig& s : c.stages) {
    w.Put<int32_t>(s.channels);
    w.Put<int32_t>(s.stride);
    w.Put<uint32_t>(static_cast<uint32_t>(s.blocks.size()));
    for (const MbnetBlockConfig& b : s.blocks) {
      w.Put<int32_t>(b.kernel);
      w.Put<int32_t>(b.expand);
    }
  }
}

bool GetConfig(Reader& r, MbnetConfig* c) {
  uint32_t stages;
  if (!(r.Get(&c->resolution) && r.Get(&c->input_channels) &&
        r.Get(&c->stem_channels) && r.Get(&c->stem_kernel) &&
        r.Get(&c->stem_stride) && r.Get(&c->head_channels) &&
        r.Get(&c->classes) && r.Get(&c->bn_eps) && r.Get(&c->bn_momentum) &&
        r.Get(&stages)) ||
      stages > 64) {
    return false;
  }
  c->stages.resize(stages);
  for (MbnetStageConfig& s : c->stages) {
    uint32_t blocks;
    if (!(r.Get(&s.channels) && r.Get(&s.stride) && r.Get(&blocks)) ||
        blocks > 64) {
      return false;
    }
    s.blocks.resize(blocks);
    for (MbnetBlockConfig& b : s.blocks) {
      if (!(r.Get(&b.kernel) && r.Get(&b.expand))) return false;
    }
  }
  return true;
}

void PutState(Writer& w, const TrainState& s) {
  w.Put(s.epochs);
  w.Put(s.batch_size);
  w.Put(s.base_lr);
  w.Put(s.seed);
  w.Put(s.epoch);
  w.Put(s.step);
  w.Put(s.global_step);
  w.Put(s.epoch_loss_sum);
  w.Put(s.epoch_correct);
  w.Put(s.epoch_images);
  w.Put(s.train_seconds);
}

bool GetState(Reader& r, TrainState* s) {
  return r.Get(&s->epochs) && r.Get(&s->batch_size) && r.Get(&s->base_lr) &&
         r.Get(&s->seed) && r.Get(&s->epoch) && r.Get(&s->step) &&
         r.Get(&s->global_step) && r.Get(&s->epoch_loss_sum) &&
         r.Get(&s->epoch_correct) && r.Get(&s->epoch_images) &&
         r.Get(&s->train_seconds);
}

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(path, ": ", what, ": ", std::strerror(errno)));
}

}  // namespace

Checkpoint MakeCheckpoint(Mbnet& net, const Sgd* sgd, const TrainState& state) {
  Checkpoint c;
  c.config = net.config();
  c.state = state;
  internal::SaveState(net.Parameters(), net.BatchNormStats(), sgd, &c);
  return c;
}

absl::Status WriteCheckpoint(const std::string& path, const Checkpoint& ckpt) {
  Writer payload;
  PutConfig(payload, ckpt.config);
  PutState(payload, ckpt.state);
  payload.PutValues(ckpt.parameters);
  payload.PutValues(ckpt.velocity);
  payload.PutValues(ckpt.bn_mean);
  payload.PutValues(ckpt.bn_var);
  payload.Put<uint32_t>(static_cast<uint32_t>(ckpt.metadata.size()));
  for (const auto& [key, value] : ckpt.metadata) {
    payload.PutString(key);
    payload.PutString(value);
  }
  payload.PutValues(ckpt.extra);
  const std::vector<uint8_t>& body = payload.bytes();
  Writer header;
  for (char ch : kMagic) header.Put(ch);
  header.Put<uint32_t>(kVersion);
  header.Put<uint64_t>(body.size());
  header.Put<uint32_t>(static_cast<uint32_t>(
      crc32(0L, body.data(), static_cast<uInt>(body.size()))));

  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  auto write_all = [&](const std::vector<uint8_t>& b) {
    size_t done = 0;
    while (done < b.size()) {
      const ssize_t n = ::write(fd, b.data() + done, b.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      done += static_cast<size_t>(n);
    }
    return true;
  };
  if (!write_all(header.bytes()) || !write_all(body) || ::fsync(fd) != 0) {
    const absl::Status s = Errno("write failed", tmp);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return Errno("close failed", tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Errno("cannot rename over", path);
  }
  // The rename itself reaches the disk only with the directory.
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::StatusOr<Checkpoint> ReadCheckpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  constexpr size_t kHeader = 8 + 4 + 8 + 4;
  if (bytes.size() < kHeader) {
    return absl::DataLossError(absl::StrCat(path, ": truncated checkpoint"));
  }
  if (std::memcmp(bytes.data(), kMagic, 8) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a supernet checkpoint"));
  }
  Reader header(bytes.data() + 8, kHeader - 8);
  uint32_t version = 0, crc = 0;
  uint64_t size = 0;
  header.Get(&version);
  header.Get(&size);
  header.Get(&crc);
  if (version != kVersion && version != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": checkpoint format version ", version,
                     ", expected ", kVersion));
  }
  if (size > kMaxPayload || bytes.size() - kHeader != size) {
    return absl::DataLossError(absl::StrCat(
        path, ": truncated checkpoint (payload ", bytes.size() - kHeader,
        " bytes, header says ", size, ")"));
  }
  const uint8_t* body = bytes.data() + kHeader;
  if (crc32(0L, body, static_cast<uInt>(size)) != crc) {
    return absl::DataLossError(absl::StrCat(path, ": checkpoint CRC mismatch"));
  }
  Reader r(body, size);
  Checkpoint c;
  if (!GetConfig(r, &c.config) || !GetState(r, &c.state) ||
      !r.GetValues(&c.parameters) || !r.GetValues(&c.velocity) ||
      !r.GetValues(&c.bn_mean) || !r.GetValues(&c.bn_var)) {
    return absl::DataLossError(absl::StrCat(path, ": malformed checkpoint"));
  }
  if (version >= 2) {
    uint32_t pairs = 0;
    bool ok = r.Get(&pairs);
    for (uint32_t i = 0; ok && i < pairs; ++i) {
      std::pair<std::string, std::string> kv;
      ok = r.GetString(&kv.first) && r.GetString(&kv.second);
      c.metadata.push_back(std::move(kv));
    }
    if (!ok || !r.GetValues(&c.extra)) {
      return absl::DataLossError(absl::StrCat(path, ": malformed checkpoint"));
    }
  }
  if (!r.done()) {
    return absl::DataLossError(absl::StrCat(path, ": malformed checkpoint"));
  }
  return c;
}

std::string Checkpoint::Metadata(const std::string& key) const {
  for (const auto& [k, v] : metadata) {
    if (k == key) return v;
  }
  return "";
}

absl::Status RestoreCheckpoint(const Checkpoint& ckpt, Mbnet* net, Sgd* sgd) {
  return internal::RestoreState(ckpt, net->Parameters(), net->BatchNormStats(),
                                "net", sgd);
}

namespace internal {

void SaveState(const std::vector<Parameter*>& params,
               const std::vector<RunningStats*>& stats, const Sgd* sgd,
               Checkpoint* ckpt) {
  for (size_t i = 0; i < params.size(); ++i) {
    ckpt->parameters.push_back({params[i]->name, params[i]->value});
    if (sgd != nullptr && i < sgd->velocity().size()) {
      ckpt->velocity.push_back({params[i]->name, sgd->velocity()[i]});
    }
  }
  for (const RunningStats* s : stats) {
    ckpt->bn_mean.push_back({s->name, s->mean});
    ckpt->bn_var.push_back({s->name, s->var});
  }
}

absl::Status MatchSaved(const std::vector<NamedValues>& saved, size_t i,
                        const std::string& name, size_t size,
                        const std::string& model) {
  if (i >= saved.size() || saved[i].name != name ||
      saved[i].values.size() != size) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint does not match the ", model, " at ", name,
                     " (", size, " values)"));
  }
  return absl::OkStatus();
}

absl::Status RestoreState(const Checkpoint& ckpt,
                          const std::vector<Parameter*>& params,
                          const std::vector<RunningStats*>& stats,
                          const std::string& model, Sgd* sgd) {
  if (ckpt.parameters.size() != params.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint has ", ckpt.parameters.size(),
                     " parameters, the ", model, " ", params.size()));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    MCUNAS_RETURN_IF_ERROR(MatchSaved(ckpt.parameters, i, params[i]->name,
                                      params[i]->value.size(), model));
    if (!ckpt.velocity.empty()) {
      MCUNAS_RETURN_IF_ERROR(MatchSaved(ckpt.velocity, i, params[i]->name,
                                        params[i]->value.size(), model));
    }
  }
  for (size_t i = 0; i < stats.size(); ++i) {
    MCUNAS_RETURN_IF_ERROR(MatchSaved(ckpt.bn_mean, i, stats[i]->name,
                                      stats[i]->mean.size(), model));
    MCUNAS_RETURN_IF_ERROR(MatchSaved(ckpt.bn_var, i, stats[i]->name,
                                      stats[i]->var.size(), model));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    params[i]->value = ckpt.parameters[i].values;
  }
  for (size_t i = 0; i < stats.size(); ++i) {
    stats[i]->mean = ckpt.bn_mean[i].values;
    stats[i]->var = ckpt.bn_var[i].values;
  }
  if (sgd != nullptr) {
    sgd->velocity().clear();
    for (const NamedValues& v : ckpt.velocity) {
      sgd->velocity().push_back(v.values);
    }
  }
  return absl::OkStatus();
}

}  // namespace internal

}  // namespace mcunas::supernet
