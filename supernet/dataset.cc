#include "mcunas/supernet/dataset.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "logging.h"
#include "mcunas/common/status_macros.h"
#include "spdlog/sinks/stdout_color_sinks.h"

namespace mcunas::supernet {
namespace internal {

std::shared_ptr<spdlog::logger> Logger() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    std::shared_ptr<spdlog::logger> existing = spdlog::get("supernet");
    return existing != nullptr ? existing : spdlog::stderr_color_mt("supernet");
  }();
  return logger;
}

}  // namespace internal

namespace {

// Larger IDX payloads than this are refused rather than allocated: a
// corrupt header must not make us allocate terabytes.
constexpr uint64_t kMaxIdxBytes = uint64_t{8} << 30;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads exactly `n` bytes; returns how many were read or an error for a
// corrupt stream.
absl::StatusOr<size_t> ReadFully(gzFile f, uint8_t* out, size_t n,
                                 const std::string& path) {
  size_t done = 0;
  while (done < n) {
    const unsigned chunk =
        static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
    const int got = gzread(f, out + done, chunk);
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(f, &errnum);
      return absl::DataLossError(absl::StrCat(
          path, ": corrupt gzip stream: ", msg != nullptr ? msg : "unknown"));
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

}  // namespace

absl::StatusOr<IdxArray> ReadIdxFile(const std::string& path) {
  GzFile f(gzopen(path.c_str(), "rb"));
  if (f == nullptr) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  }
  uint8_t header[4];
  MCUNAS_ASSIGN_OR_RETURN(size_t got, ReadFully(f.get(), header, 4, path));
  if (got < 4) {
    return absl::DataLossError(
        absl::StrCat(path, ": truncated: no complete IDX header"));
  }
  if (header[0] != 0 || header[1] != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: not an IDX file (magic %02x %02x %02x %02x; expected 00 00 08 "
        "<rank>)",
        path, header[0], header[1], header[2], header[3]));
  }
  if (header[2] != 0x08) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: unsupported IDX element type 0x%02x (only 0x08, unsigned byte)",
        path, header[2]));
  }
  const int rank = header[3];
  if (rank < 1 || rank > 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": unsupported IDX rank ", rank, " (1 to 4)"));
  }
  IdxArray array;
  uint64_t elements = 1;
  for (int i = 0; i < rank; ++i) {
    uint8_t d[4];
    MCUNAS_ASSIGN_OR_RETURN(got, ReadFully(f.get(), d, 4, path));
    if (got < 4) {
      return absl::DataLossError(absl::StrCat(
          path, ": truncated: IDX header ends inside dimension ", i));
    }
    const uint32_t dim = (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) |
                         (uint32_t{d[2]} << 8) | d[3];
    if (dim == 0 || dim > (1u << 31) - 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": IDX dimension ", i, " is ", dim));
    }
    elements *= dim;
    if (elements > kMaxIdxBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": IDX header declares more than ", kMaxIdxBytes, " bytes"));
    }
    array.dims.push_back(static_cast<int32_t>(dim));
  }
  array.data.resize(elements);
  MCUNAS_ASSIGN_OR_RETURN(
      got, ReadFully(f.get(), array.data.data(), elements, path));
  if (got < elements) {
    return absl::DataLossError(
        absl::StrCat(path, ": truncated: header declares ", elements,
                     " bytes of data, file has ", got));
  }
  uint8_t extra;
  MCUNAS_ASSIGN_OR_RETURN(got, ReadFully(f.get(), &extra, 1, path));
  if (got != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": more data than the IDX header declares (",
                     elements, " bytes)"));
  }
  return array;
}

absl::Status WriteIdxFile(const std::string& path, const IdxArray& array,
                          bool gzip) {
  std::vector<uint8_t> bytes = {0, 0, 0x08,
                                static_cast<uint8_t>(array.dims.size())};
  for (int32_t d : array.dims) {
    const uint32_t u = static_cast<uint32_t>(d);
    bytes.insert(bytes.end(),
                 {static_cast<uint8_t>(u >> 24), static_cast<uint8_t>(u >> 16),
                  static_cast<uint8_t>(u >> 8), static_cast<uint8_t>(u)});
  }
  bytes.insert(bytes.end(), array.data.begin(), array.data.end());
  GzFile f(gzopen(path.c_str(), gzip ? "wb" : "wbT"));
  if (f == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": cannot open for writing"));
  }
  const int written =
      gzwrite(f.get(), bytes.data(), static_cast<unsigned>(bytes.size()));
  if (written != static_cast<int>(bytes.size())) {
    return absl::DataLossError(absl::StrCat(path, ": write failed"));
  }
  if (gzclose(f.release()) != Z_OK) {
    return absl::DataLossError(absl::StrCat(path, ": close failed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Dataset> LoadIdxDataset(const std::string& images_path,
                                       const std::string& labels_path,
                                       int32_t classes) {
  MCUNAS_ASSIGN_OR_RETURN(IdxArray images, ReadIdxFile(images_path));
  MCUNAS_ASSIGN_OR_RETURN(IdxArray labels, ReadIdxFile(labels_path));
  if (images.dims.size() != 3 && images.dims.size() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        images_path, ": images must be {N, H, W} or {N, H, W, C}, got rank ",
        images.dims.size()));
  }
  if (labels.dims.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        labels_path, ": labels must be {N}, got rank ", labels.dims.size()));
  }
  if (images.dims[0] != labels.dims[0]) {
    return absl::InvalidArgumentError(
        absl::StrCat(images_path, " has ", images.dims[0], " images but ",
                     labels_path, " has ", labels.dims[0], " labels"));
  }
  Dataset d;
  d.name = images_path;
  d.height = images.dims[1];
  d.width = images.dims[2];
  d.channels = images.dims.size() == 4 ? images.dims[3] : 1;
  const int32_t max_label =
      *std::max_element(labels.data.begin(), labels.data.end());
  d.classes = classes > 0 ? classes : max_label + 1;
  if (max_label >= d.classes) {
    const auto it = std::find_if(labels.data.begin(), labels.data.end(),
                                 [&](uint8_t l) { return l >= d.classes; });
    return absl::InvalidArgumentError(absl::StrCat(
        labels_path, ": label ", *it, " at index ", it - labels.data.begin(),
        " is out of range for ", d.classes, " classes"));
  }
  d.pixels = std::move(images.data);
  d.labels.assign(labels.data.begin(), labels.data.end());
  return d;
}

absl::StatusOr<Dataset> LoadFashionMnist(Split split, const std::string& dir) {
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  auto find = [&](const std::string& stem) -> absl::StatusOr<std::string> {
    for (const char* ext : {".gz", ""}) {
      const std::string path = absl::StrCat(dir, "/", stem, ext);
      GzFile f(gzopen(path.c_str(), "rb"));
      if (f != nullptr) return path;
    }
    return absl::NotFoundError(
        absl::StrCat(dir, "/", stem,
                     "[.gz]: not found (install dataset-fashion-mnist: "
                     "scripts/setup)"));
  };
  MCUNAS_ASSIGN_OR_RETURN(std::string images,
                          find(prefix + "-images-idx3-ubyte"));
  MCUNAS_ASSIGN_OR_RETURN(std::string labels,
                          find(prefix + "-labels-idx1-ubyte"));
  MCUNAS_ASSIGN_OR_RETURN(Dataset d, LoadIdxDataset(images, labels, 10));
  d.name =
      split == Split::kTrain ? "fashion-mnist/train" : "fashion-mnist/test";
  d.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return d;
}

SplitIndices SplitTrainValidation(const Dataset& dataset,
                                  double validation_fraction, uint64_t seed) {
  std::vector<std::vector<int64_t>> by_class(std::max(dataset.classes, 1));
  for (int64_t i = 0; i < dataset.size(); ++i) {
    by_class[dataset.labels[i]].push_back(i);
  }
  SplitIndices out;
  std::mt19937_64 rng(seed);
  for (std::vector<int64_t>& members : by_class) {
    std::shuffle(members.begin(), members.end(), rng);
    const size_t val = static_cast<size_t>(std::llround(
        validation_fraction * static_cast<double>(members.size())));
    out.validation.insert(out.validation.end(), members.begin(),
                          members.begin() + val);
    out.train.insert(out.train.end(), members.begin() + val, members.end());
  }
  std::sort(out.train.begin(), out.train.end());
  std::sort(out.validation.begin(), out.validation.end());
  return out;
}

std::vector<int64_t> AllIndices(const Dataset& dataset) {
  std::vector<int64_t> all(dataset.size());
  std::iota(all.begin(), all.end(), 0);
  return all;
}

}  // namespace mcunas::supernet
