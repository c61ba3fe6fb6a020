#include "mcunas/supernet/dataset.h"

#include <png.h>
#include <turbojpeg.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcunas/supernet/data_pipeline.h"
#include "test_data.h"

namespace mcunas::supernet {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TempDir;

void WriteRaw(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::vector<uint8_t> ReadRaw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

IdxArray Images(int32_t n, int32_t h, int32_t w) {
  IdxArray a;
  a.dims = {n, h, w};
  a.data.resize(static_cast<size_t>(n) * h * w);
  for (size_t i = 0; i < a.data.size(); ++i)
    a.data[i] = static_cast<uint8_t>(i * 7);
  return a;
}

IdxArray Labels(std::vector<uint8_t> labels) {
  IdxArray a;
  a.dims = {static_cast<int32_t>(labels.size())};
  a.data = std::move(labels);
  return a;
}

TEST(IdxTest, RoundTripsPlainAndGzipped) {
  TempDir dir;
  const IdxArray images = Images(3, 4, 5);
  for (bool gzip : {false, true}) {
    const std::string path = dir.Path(gzip ? "a.gz" : "a");
    ASSERT_TRUE(WriteIdxFile(path, images, gzip).ok());
    absl::StatusOr<IdxArray> read = ReadIdxFile(path);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->dims, images.dims);
    EXPECT_EQ(read->data, images.data);
  }
  // The gzipped file really is gzip.
  const std::vector<uint8_t> gz = ReadRaw(dir.Path("a.gz"));
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(gz[0], 0x1f);
  EXPECT_EQ(gz[1], 0x8b);
}

TEST(IdxTest, TruncatedFilesNameThePath) {
  TempDir dir;
  ASSERT_TRUE(WriteIdxFile(dir.Path("full"), Images(2, 3, 3), false).ok());
  std::vector<uint8_t> bytes = ReadRaw(dir.Path("full"));
  for (size_t keep : {size_t{2}, size_t{9}, bytes.size() - 1}) {
    const std::string path = dir.Path("cut" + std::to_string(keep));
    WriteRaw(path, std::vector<uint8_t>(bytes.begin(), bytes.begin() + keep));
    absl::StatusOr<IdxArray> read = ReadIdxFile(path);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(read.status().message(), HasSubstr(path));
    EXPECT_THAT(read.status().message(), HasSubstr("truncated"));
  }
  // A gzipped file cut in the middle of its stream.
  ASSERT_TRUE(WriteIdxFile(dir.Path("full.gz"), Images(50, 28, 28), true).ok());
  bytes = ReadRaw(dir.Path("full.gz"));
  WriteRaw(
      dir.Path("cut.gz"),
      std::vector<uint8_t>(bytes.begin(), bytes.begin() + bytes.size() / 2));
  absl::StatusOr<IdxArray> read = ReadIdxFile(dir.Path("cut.gz"));
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("cut.gz"));
}

TEST(IdxTest, RejectsWrongMagicTypeAndTrailingData) {
  TempDir dir;
  WriteRaw(dir.Path("magic"), {0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 5});
  absl::StatusOr<IdxArray> read = ReadIdxFile(dir.Path("magic"));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(read.status().message(), HasSubstr("not an IDX file"));

  WriteRaw(dir.Path("float"), {0, 0, 0x0d, 0x01, 0, 0, 0, 1, 0, 0, 0, 0});
  read = ReadIdxFile(dir.Path("float"));
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("element type 0x0d"));

  WriteRaw(dir.Path("long"), {0, 0, 0x08, 0x01, 0, 0, 0, 1, 5, 6});
  read = ReadIdxFile(dir.Path("long"));
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("more data"));

  read = ReadIdxFile(dir.Path("missing"));
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
}

TEST(IdxTest, CorruptGzipIsDataLoss) {
  TempDir dir;
  ASSERT_TRUE(WriteIdxFile(dir.Path("x.gz"), Images(20, 28, 28), true).ok());
  std::vector<uint8_t> bytes = ReadRaw(dir.Path("x.gz"));
  for (size_t i = 20; i < bytes.size() - 8; i += 3) bytes[i] ^= 0x5a;
  WriteRaw(dir.Path("x.gz"), bytes);
  absl::StatusOr<IdxArray> read = ReadIdxFile(dir.Path("x.gz"));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(), HasSubstr("x.gz"));
}

TEST(IdxDatasetTest, LoadsAndChecksCountsAndLabels) {
  TempDir dir;
  ASSERT_TRUE(WriteIdxFile(dir.Path("img"), Images(4, 3, 2), true).ok());
  ASSERT_TRUE(WriteIdxFile(dir.Path("lab"), Labels({0, 2, 1, 2}), true).ok());
  absl::StatusOr<Dataset> d = LoadIdxDataset(dir.Path("img"), dir.Path("lab"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->size(), 4);
  EXPECT_EQ(d->classes, 3);
  EXPECT_EQ(d->height, 3);
  EXPECT_EQ(d->width, 2);
  EXPECT_EQ(d->channels, 1);
  EXPECT_EQ(d->image(1)[0], static_cast<uint8_t>(6 * 7));

  ASSERT_TRUE(WriteIdxFile(dir.Path("lab3"), Labels({0, 1, 1}), true).ok());
  d = LoadIdxDataset(dir.Path("img"), dir.Path("lab3"));
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("4 images"));
  EXPECT_THAT(d.status().message(), HasSubstr("3 labels"));

  d = LoadIdxDataset(dir.Path("img"), dir.Path("lab"), 2);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("label 2 at index 1"));

  // Labels passed as images: wrong rank.
  d = LoadIdxDataset(dir.Path("lab"), dir.Path("lab"));
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("images must be"));
}

void WritePng(const std::string& path, int32_t h, int32_t w, bool color,
              uint8_t base) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = w;
  image.height = h;
  image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(image));
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<uint8_t>(base + i);
  ASSERT_TRUE(png_image_write_to_file(&image, path.c_str(), 0, pixels.data(), 0,
                                      nullptr));
}

void WriteJpeg(const std::string& path, int32_t h, int32_t w) {
  tjhandle tj = tjInitCompress();
  std::vector<uint8_t> pixels(static_cast<size_t>(h) * w * 3, 128);
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  ASSERT_EQ(tjCompress2(tj, pixels.data(), w, 0, h, TJPF_RGB, &jpeg, &size,
                        TJSAMP_444, 95, 0),
            0);
  WriteRaw(path, std::vector<uint8_t>(jpeg, jpeg + size));
  tjFree(jpeg);
  tjDestroy(tj);
}

TEST(ImageFolderTest, LoadsClassesInNameOrderAndConformsImages) {
  TempDir dir;
  fs::create_directories(dir.Path("cat"));
  fs::create_directories(dir.Path("ant"));
  WritePng(dir.Path("ant/1.png"), 4, 4, false, 10);
  WritePng(dir.Path("ant/2.PNG"), 8, 8, false, 0);   // resized to 4x4
  WritePng(dir.Path("cat/1.png"), 4, 4, true, 100);  // colour -> grey
  WriteJpeg(dir.Path("cat/2.jpg"), 4, 4);
  WriteRaw(dir.Path("cat/notes.txt"), {'h', 'i'});  // skipped
  absl::StatusOr<Dataset> d = LoadImageFolder(dir.path());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->classes, 2);
  EXPECT_EQ(d->class_names, (std::vector<std::string>{"ant", "cat"}));
  EXPECT_EQ(d->labels, (std::vector<int32_t>{0, 0, 1, 1}));
  EXPECT_EQ(d->height, 4);
  EXPECT_EQ(d->channels, 1);
  EXPECT_EQ(d->image(0)[0], 10);
  EXPECT_EQ(d->image(0)[5], 15);
  EXPECT_NEAR(d->image(3)[0], 128, 2);  // JPEG grey 128

  ImageFolderOptions rgb;
  rgb.channels = 3;
  rgb.height = rgb.width = 6;
  d = LoadImageFolder(dir.path(), rgb);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->channels, 3);
  EXPECT_EQ(d->pixels.size(), 4u * 6 * 6 * 3);
}

TEST(ImageFolderTest, ErrorsNameTheFileOrFolder) {
  TempDir dir;
  fs::create_directories(dir.Path("a"));
  fs::create_directories(dir.Path("b"));
  WritePng(dir.Path("a/ok.png"), 4, 4, false, 0);
  WritePng(dir.Path("b/bad.png"), 16, 16, false, 0);
  const std::vector<uint8_t> bytes = ReadRaw(dir.Path("b/bad.png"));
  WriteRaw(
      dir.Path("b/bad.png"),
      std::vector<uint8_t>(bytes.begin(), bytes.begin() + bytes.size() / 2));
  absl::StatusOr<Dataset> d = LoadImageFolder(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("b/bad.png"));

  WriteRaw(dir.Path("b/bad.png"), {'n', 'o', 'p', 'e'});
  d = LoadImageFolder(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("b/bad.png: not a PNG or JPEG"));

  WriteJpeg(dir.Path("b/bad.png"), 16, 16);
  const std::vector<uint8_t> jpeg = ReadRaw(dir.Path("b/bad.png"));
  WriteRaw(dir.Path("b/bad.png"),
           std::vector<uint8_t>(jpeg.begin(), jpeg.begin() + jpeg.size() / 2));
  d = LoadImageFolder(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("b/bad.png: cannot decode JPEG"));

  fs::remove(dir.Path("b/bad.png"));
  d = LoadImageFolder(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("has no PNG or JPEG"));

  EXPECT_EQ(LoadImageFolder(dir.Path("nothing")).status().code(),
            absl::StatusCode::kNotFound);
}

Dataset Toy(int32_t n, int32_t classes, int32_t size) {
  Dataset d;
  d.height = d.width = size;
  d.channels = 1;
  d.classes = classes;
  for (int32_t i = 0; i < n; ++i) {
    d.labels.push_back(i % classes);
    for (int32_t p = 0; p < size * size; ++p) {
      d.pixels.push_back(static_cast<uint8_t>((i * 31 + p * 5) % 256));
    }
  }
  return d;
}

TEST(SplitTest, StratifiedDisjointAndDeterministic) {
  const Dataset d = Toy(100, 4, 2);
  const SplitIndices a = SplitTrainValidation(d, 0.2, 1);
  const SplitIndices b = SplitTrainValidation(d, 0.2, 1);
  const SplitIndices c = SplitTrainValidation(d, 0.2, 2);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.validation, b.validation);
  EXPECT_NE(a.validation, c.validation);
  EXPECT_EQ(a.validation.size(), 20u);
  std::set<int64_t> all(a.train.begin(), a.train.end());
  for (int64_t v : a.validation) EXPECT_TRUE(all.insert(v).second);
  EXPECT_EQ(all.size(), 100u);
  std::vector<int> per_class(4);
  for (int64_t v : a.validation) ++per_class[d.labels[v]];
  EXPECT_EQ(per_class, (std::vector<int>{5, 5, 5, 5}));
}

TEST(BatchLoaderTest, EvaluationBatchesAreInOrderAndNormalised) {
  const Dataset d = Toy(10, 2, 4);
  PipelineOptions options;
  options.resolution = 4;
  options.normalization = {{0.5f}, {0.25f}};
  options.augment.pad = 2;
  options.augment.horizontal_flip = true;
  BatchLoader loader(&d, AllIndices(d), options, 3);
  ThreadPool pool(2);
  EXPECT_EQ(loader.Batches(4, false), 3);
  EXPECT_EQ(loader.Batches(4, true), 2);
  Tensor images;
  std::vector<int32_t> labels;
  loader.Fill(pool, 0, 2, 4, false, &images, &labels);
  ASSERT_EQ(images.shape(), (std::vector<int32_t>{2, 4, 4, 1}));
  EXPECT_EQ(labels, (std::vector<int32_t>{0, 1}));
  EXPECT_FLOAT_EQ(images.data()[3], (d.image(8)[3] / 255.0f - 0.5f) / 0.25f);
  EXPECT_EQ(loader.Image(8),
            std::vector<float>(images.data(), images.data() + 16));
}

TEST(BatchLoaderTest, TrainingBatchesAreShuffledAugmentedAndReproducible) {
  const Dataset d = Toy(64, 4, 8);
  PipelineOptions options;
  options.resolution = 8;
  options.augment.pad = 2;
  options.augment.horizontal_flip = true;
  BatchLoader loader(&d, AllIndices(d), options, 5);
  ThreadPool pool(2);
  Tensor a, b, c;
  std::vector<int32_t> la, lb, lc;
  loader.Fill(pool, 1, 3, 16, true, &a, &la);
  loader.Fill(pool, 1, 3, 16, true, &b, &lb);
  loader.Fill(pool, 2, 3, 16, true, &c, &lc);
  EXPECT_EQ(a.values(), b.values());
  EXPECT_EQ(la, lb);
  EXPECT_NE(a.values(), c.values());
  // Augmented images differ from plain ones but keep the value set plus
  // padding (the normalised black pixel).
  Tensor plain;
  std::vector<int32_t> lp;
  loader.Fill(pool, 1, 0, 64, false, &plain, &lp);
  int same = 0;
  for (int i = 0; i < 16; ++i) {
    bool found = false;
    for (int j = 0; j < 64 && !found; ++j) {
      found = std::equal(a.data() + i * 64, a.data() + (i + 1) * 64,
                         plain.data() + j * 64);
    }
    same += found;
  }
  EXPECT_LT(same, 16);
}

TEST(BatchLoaderTest, ResizesToTheResolution) {
  const Dataset d = Toy(2, 2, 8);
  PipelineOptions options;
  options.resolution = 4;
  options.normalization = {{0.0f}, {1.0f}};
  BatchLoader loader(&d, AllIndices(d), options, 0);
  const std::vector<float> img = loader.Image(0);
  ASSERT_EQ(img.size(), 16u);
  // Output pixel (0,0) at half-pixel centres averages input pixels (0..1)^2.
  const uint8_t* s = d.image(0);
  EXPECT_NEAR(img[0] * 255.0f, (s[0] + s[1] + s[8] + s[9]) / 4.0f, 1e-3);
}

TEST(FashionMnistTest, LoadsTheDebianPackage) {
  if (!fs::exists(kFashionMnistDir)) {
    GTEST_SKIP() << kFashionMnistDir
                 << " not found: install dataset-fashion-mnist (scripts/setup)";
  }
  absl::StatusOr<Dataset> train = LoadFashionMnist(Split::kTrain);
  ASSERT_TRUE(train.ok()) << train.status();
  absl::StatusOr<Dataset> test = LoadFashionMnist(Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(train->size(), 60000);
  EXPECT_EQ(test->size(), 10000);
  EXPECT_EQ(train->height, 28);
  EXPECT_EQ(train->width, 28);
  EXPECT_EQ(train->channels, 1);
  EXPECT_EQ(train->classes, 10);
  EXPECT_EQ(train->class_names.size(), 10u);
  std::vector<int> counts(10);
  for (int32_t l : train->labels) ++counts[l];
  EXPECT_EQ(counts, std::vector<int>(10, 6000));
  const SplitIndices split = SplitTrainValidation(*train, 0.1, 0);
  EXPECT_EQ(split.validation.size(), 6000u);
}

}  // namespace
}  // namespace mcunas::supernet
