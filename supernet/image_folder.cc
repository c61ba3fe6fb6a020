// LoadImageFolder and DecodeImageFile: PNG through libpng's simplified API,
// JPEG through TurboJPEG (both maintained, in Debian, and they report
// corrupt input as errors rather than crashing).
#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "logging.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/supernet/data_pipeline.h"
#include "mcunas/supernet/dataset.h"

namespace mcunas::supernet {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::vector<uint8_t>> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return bytes;
}

absl::StatusOr<DecodedImage> DecodePng(const std::vector<uint8_t>& bytes,
                                       const std::string& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot decode PNG: ", image.message));
  }
  DecodedImage out;
  const bool color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
  image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  out.height = static_cast<int32_t>(image.height);
  out.width = static_cast<int32_t>(image.width);
  out.channels = color ? 3 : 1;
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  // Transparent pixels are composed onto black (background == null).
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
    const std::string message = image.message;
    png_image_free(&image);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot decode PNG: ", message));
  }
  return out;
}

struct TjCloser {
  void operator()(void* h) const { tjDestroy(h); }
};

absl::StatusOr<DecodedImage> DecodeJpeg(const std::vector<uint8_t>& bytes,
                                        const std::string& path) {
  std::unique_ptr<void, TjCloser> tj(tjInitDecompress());
  if (tj == nullptr) {
    return absl::InternalError("cannot initialise the JPEG decoder");
  }
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(tj.get(), bytes.data(), bytes.size(), &width, &height,
                          &subsamp, &colorspace) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot decode JPEG: ", tjGetErrorStr2(tj.get())));
  }
  DecodedImage out;
  out.height = height;
  out.width = width;
  out.channels = colorspace == TJCS_GRAY ? 1 : 3;
  out.pixels.resize(static_cast<size_t>(width) * height * out.channels);
  if (tjDecompress2(tj.get(), bytes.data(), bytes.size(), out.pixels.data(),
                    width, 0, height, out.channels == 1 ? TJPF_GRAY : TJPF_RGB,
                    0) != 0) {
    // Warnings too (e.g. "premature end of data"): a truncated file decodes
    // to a partly grey image, which is not training data.
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot decode JPEG: ", tjGetErrorStr2(tj.get())));
  }
  return out;
}

bool HasImageExtension(const fs::path& p) {
  const std::string ext = absl::AsciiStrToLower(p.extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Converts to `channels` (1 or 3) and resizes to height x width.
std::vector<uint8_t> Conform(const DecodedImage& in, int32_t height,
                             int32_t width, int32_t channels) {
  std::vector<uint8_t> converted;
  const std::vector<uint8_t>* src = &in.pixels;
  const int64_t pixels = static_cast<int64_t>(in.height) * in.width;
  if (in.channels != channels) {
    converted.resize(pixels * channels);
    for (int64_t i = 0; i < pixels; ++i) {
      if (channels == 1) {
        const uint8_t* p = &in.pixels[i * 3];
        converted[i] = static_cast<uint8_t>(
            std::lround(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]));
      } else {
        converted[i * 3] = converted[i * 3 + 1] = converted[i * 3 + 2] =
            in.pixels[i];
      }
    }
    src = &converted;
  }
  if (in.height == height && in.width == width) return *src;
  std::vector<float> resized(static_cast<size_t>(height) * width * channels);
  ResizeBilinear(src->data(), in.height, in.width, channels, height, width,
                 resized.data());
  std::vector<uint8_t> out(resized.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] =
        static_cast<uint8_t>(std::clamp(std::lround(resized[i]), 0l, 255l));
  }
  return out;
}

}  // namespace

absl::StatusOr<DecodedImage> DecodeImageFile(const std::string& path) {
  MCUNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadBytes(path));
  static constexpr uint8_t kPng[] = {0x89, 'P', 'N', 'G'};
  static constexpr uint8_t kJpeg[] = {0xff, 0xd8, 0xff};
  if (bytes.size() >= 4 && std::equal(kPng, kPng + 4, bytes.begin())) {
    return DecodePng(bytes, path);
  }
  if (bytes.size() >= 3 && std::equal(kJpeg, kJpeg + 3, bytes.begin())) {
    return DecodeJpeg(bytes, path);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": not a PNG or JPEG image"));
}

absl::StatusOr<Dataset> LoadImageFolder(const std::string& root,
                                        const ImageFolderOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return absl::NotFoundError(absl::StrCat(root, ": not a directory"));
  }
  std::vector<fs::path> class_dirs;
  for (const fs::directory_entry& e : fs::directory_iterator(root, ec)) {
    if (e.is_directory() && e.path().filename().string()[0] != '.') {
      class_dirs.push_back(e.path());
    }
  }
  if (ec) return absl::InternalError(absl::StrCat(root, ": ", ec.message()));
  if (class_dirs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        root, ": no class folders (expected root/<class>/<image>)"));
  }
  std::sort(class_dirs.begin(), class_dirs.end());
  Dataset d;
  d.name = root;
  d.classes = static_cast<int32_t>(class_dirs.size());
  d.height = options.height;
  d.width = options.width;
  d.channels = options.channels;
  int64_t skipped = 0;
  for (int32_t cls = 0; cls < d.classes; ++cls) {
    d.class_names.push_back(class_dirs[cls].filename().string());
    std::vector<fs::path> files;
    for (const fs::directory_entry& e :
         fs::directory_iterator(class_dirs[cls], ec)) {
      if (!e.is_regular_file()) continue;
      if (HasImageExtension(e.path())) {
        files.push_back(e.path());
      } else {
        ++skipped;
      }
    }
    if (files.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          class_dirs[cls].string(), ": class folder has no PNG or JPEG image"));
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      MCUNAS_ASSIGN_OR_RETURN(DecodedImage image,
                              DecodeImageFile(file.string()));
      if (d.height == 0) d.height = image.height;
      if (d.width == 0) d.width = image.width;
      if (d.channels == 0) d.channels = image.channels;
      if (d.channels != 1 && d.channels != 3) {
        return absl::InvalidArgumentError(absl::StrCat(
            "image folder channels must be 1 or 3, got ", d.channels));
      }
      const std::vector<uint8_t> pixels =
          Conform(image, d.height, d.width, d.channels);
      d.pixels.insert(d.pixels.end(), pixels.begin(), pixels.end());
      d.labels.push_back(cls);
    }
  }
  if (skipped > 0) {
    internal::Logger()->info("{}: skipped {} files that are not .png/.jpg",
                             root, skipped);
  }
  return d;
}

}  // namespace mcunas::supernet
