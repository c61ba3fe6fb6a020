// Image classification datasets for supernet training: IDX files (plain or
// gzipped, as MNIST and Fashion-MNIST ship), Fashion-MNIST from Debian's
// dataset-fashion-mnist package (the embedded default), and a folder of
// images per class (PNG via libpng, JPEG via libjpeg-turbo). Images are kept
// as uint8 HWC at one storage size; data_pipeline.h resizes, normalises and
// augments them into float batches.
//
// Every loader returns a clear error naming the file for bad input:
// truncated or corrupt files, wrong magic, unsupported element types, image
// and label counts that differ, labels out of range, undecodable images,
// empty class folders.
//
// Plain values and stateless functions; thread-safe.
#ifndef MCUNAS_SUPERNET_DATASET_H_
#define MCUNAS_SUPERNET_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mcunas::supernet {

struct Dataset {
  std::string name;
  int32_t height = 0, width = 0, channels = 0;
  int32_t classes = 0;
  std::vector<std::string> class_names;  // empty or one per class
  std::vector<uint8_t> pixels;  // images, each height*width*channels HWC
  std::vector<int32_t> labels;  // one per image, in [0, classes)

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t image_bytes() const {
    return static_cast<int64_t>(height) * width * channels;
  }
  const uint8_t* image(int64_t i) const {
    return pixels.data() + i * image_bytes();
  }
};

// An IDX array (http://yann.lecun.com/exdb/mnist/ format): only the unsigned
// byte element type (0x08), which is what image and label files use.
struct IdxArray {
  std::vector<int32_t> dims;
  std::vector<uint8_t> data;
};

// Reads an IDX file, gzipped or not (detected from its first bytes). Fails
// with NotFound when it cannot be opened, DataLoss when it is truncated or
// the gzip stream is corrupt, InvalidArgument for a wrong magic, an
// unsupported element type or more data than the header declares. The error
// names `path`.
absl::StatusOr<IdxArray> ReadIdxFile(const std::string& path);

// Writes `array` as IDX (gzipped when `gzip`). For tests and for converting
// data into the format this library reads.
absl::Status WriteIdxFile(const std::string& path, const IdxArray& array,
                          bool gzip);

// Images {N, H, W} (grey) or {N, H, W, C} and labels {N}. `classes` 0 means
// max label + 1. Fails when the counts differ or a label is out of range.
absl::StatusOr<Dataset> LoadIdxDataset(const std::string& images_path,
                                       const std::string& labels_path,
                                       int32_t classes = 0);

// Where Debian's dataset-fashion-mnist installs the files.
inline constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";

enum class Split { kTrain, kTest };

// Fashion-MNIST's official train (60000) or test (10000) images from `dir`
// ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]), with class names.
absl::StatusOr<Dataset> LoadFashionMnist(
    Split split, const std::string& dir = kFashionMnistDir);

struct ImageFolderOptions {
  // Storage size; 0 takes the first image's. Other sizes are resized
  // (bilinear) to it.
  int32_t height = 0, width = 0;
  // 1 (grey) or 3 (RGB); 0 takes the first image's. Colour images are
  // converted to grey (ITU-R 601 luma) and grey ones replicated as needed.
  int32_t channels = 0;
};

// root/<class>/<image>.{png,jpg,jpeg}: one subfolder per class, classes in
// sorted name order. Other files are skipped (counted in a log line).
// Fails naming the file when an image cannot be decoded, and when there is
// no class folder or a class folder has no image.
absl::StatusOr<Dataset> LoadImageFolder(const std::string& root,
                                        const ImageFolderOptions& options = {});

// Decodes one PNG or JPEG file (by content, not extension) to uint8 HWC with
// its own channels (1, 3; alpha dropped). For tests and tools.
struct DecodedImage {
  int32_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};
absl::StatusOr<DecodedImage> DecodeImageFile(const std::string& path);

// Indices of a training set split into train and validation parts: per class,
// a seeded shuffle, the first round(fraction * count) images go to
// validation. Deterministic in (dataset labels, fraction, seed); both lists
// sorted. REQUIRES: 0 <= validation_fraction < 1.
struct SplitIndices {
  std::vector<int64_t> train;
  std::vector<int64_t> validation;
};
SplitIndices SplitTrainValidation(const Dataset& dataset,
                                  double validation_fraction, uint64_t seed);

// All indices 0..size-1, for evaluating a whole set.
std::vector<int64_t> AllIndices(const Dataset& dataset);

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_DATASET_H_
