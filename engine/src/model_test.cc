#include "mcunas/engine/model.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_writer.h"
#include "test_blob.h"
#include "test_graphs.h"

namespace mcunas::engine {
namespace {

using testing::Blob;

std::vector<uint8_t> TinyBlob(uint32_t seed = 1) {
  auto blob = WriteModel(testing::TinyMbv2Graph(seed));
  EXPECT_TRUE(blob.ok()) << blob.status();
  return blob.ok() ? *blob : std::vector<uint8_t>{};
}

TEST(Crc32Test, MatchesTheStandardCheckValue) {
  // CRC-32/ISO-HDLC's check value for the ASCII digits 1-9.
  const uint8_t digits[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ(Crc32(digits, sizeof(digits)), 0xCBF43926u);
  EXPECT_EQ(Crc32(digits, 0), 0u);
}

TEST(ModelLoadTest, LoadsWrittenModel) {
  Blob blob(TinyBlob());
  Model model;
  Diagnostic d;
  ASSERT_EQ(Model::Load(blob.data(), blob.size(), {}, &model, &d), Status::kOk)
      << d.what;
  EXPECT_TRUE(model.loaded());
  EXPECT_EQ(model.op_count(), 10);
  EXPECT_EQ(model.input_count(), 1);
  EXPECT_EQ(model.output_count(), 1);
  EXPECT_GT(model.arena_bytes(), 0u);
}

TEST(ModelLoadTest, EveryTruncationIsRejected) {
  const std::vector<uint8_t> bytes = TinyBlob();
  for (size_t size = 0; size < bytes.size(); ++size) {
    // A fresh heap copy of exactly `size` bytes so ASan sees any over-read.
    std::vector<uint8_t> copy(bytes.begin(), bytes.begin() + size);
    auto loaded = LoadedModel::FromBytes(copy.data(), copy.size());
    ASSERT_FALSE(loaded.ok()) << "truncated to " << size;
  }
}

TEST(ModelLoadTest, RejectsBadMagicVersionAndChecksum) {
  const std::vector<uint8_t> bytes = TinyBlob();
  {
    Blob b(bytes);
    b.header().magic ^= 1;
    EXPECT_EQ(b.Load().status, Status::kBadMagic);
  }
  {
    Blob b(bytes);
    b.header().version = 2;
    EXPECT_EQ(b.Load().status, Status::kBadVersion);
  }
  {
    Blob b(bytes);
    b.data()[b.header().data_offset + 3] ^= 0x40;
    EXPECT_EQ(b.Load().status, Status::kBadChecksum);
  }
}

TEST(ModelLoadTest, RejectsUnalignedBlob) {
  const std::vector<uint8_t> bytes = TinyBlob();
  std::vector<uint8_t> storage(bytes.size() + 32);
  uint8_t* aligned = storage.data() +
                     (16 - reinterpret_cast<uintptr_t>(storage.data()) % 16) %
                         16;
  std::memcpy(aligned + 1, bytes.data(), bytes.size());
  Model model;
  Diagnostic d;
  EXPECT_EQ(Model::Load(aligned + 1, bytes.size(), {}, &model, &d),
            Status::kBadAlignment);
}

TEST(ModelLoadTest, NamesTheBrokenRecord) {
  const std::vector<uint8_t> bytes = TinyBlob();
  {
    Blob b(bytes);
    b.op(4).type = 99;
    b.Restamp();
    const Diagnostic d = b.Load();
    EXPECT_EQ(d.status, Status::kBadEnum);
    EXPECT_STREQ(d.scope, "op");
    EXPECT_EQ(d.index, 4);
  }
  {
    Blob b(bytes);
    b.op(2).inputs[0] = 500;
    b.Restamp();
    const Diagnostic d = b.Load();
    EXPECT_EQ(d.status, Status::kBadTensorRef);
    EXPECT_EQ(d.index, 2);
  }
  {
    Blob b(bytes);
    const uint16_t input = b.header().inputs[0];
    b.tensor(input).offset = b.header().arena_bytes;
    b.Restamp();
    const Diagnostic d = b.Load();
    EXPECT_EQ(d.status, Status::kBadOffset);
    EXPECT_STREQ(d.scope, "tensor");
    EXPECT_EQ(d.index, input);
  }
  {
    Blob b(bytes);
    b.op(8).inputs[2] = 500;  // the average pool has one input
    b.Restamp();
    const Diagnostic d = b.Load();
    EXPECT_EQ(d.status, Status::kBadTensorRef);
    EXPECT_EQ(d.index, 8);
  }
  {
    Blob b(bytes);
    b.tensor(1).dims[0] = 60000;  // weights of the stem: bytes no longer match
    b.Restamp();
    EXPECT_EQ(b.Load().status, Status::kBadShape);
  }
  {
    Blob b(bytes);
    b.header().data_bytes = 0xFFFFFFF0u;  // would wrap a 32-bit bound check
    b.Restamp();
    EXPECT_EQ(b.Load().status, Status::kBadOffset);
  }
}

TEST(ModelLoadTest, StatusMessageNamesWhatWasWrong) {
  Blob b(TinyBlob());
  b.op(3).kernel_h = 0;
  b.Restamp();
  std::vector<uint8_t> bytes(b.data(), b.data() + b.size());
  auto loaded = LoadedModel::FromBytes(bytes);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("op 3"), std::string::npos)
      << loaded.status();
}

TEST(ModelLoadTest, RandomCorruptionNeverCrashes) {
  // Each case flips a few bytes anywhere in the tables and restamps the CRC,
  // so the structural checks (not the checksum) must catch it. Under ASan
  // this also proves no out-of-bounds read.
  const std::vector<uint8_t> bytes = TinyBlob();
  std::mt19937 rng(7);
  int rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    Blob b(bytes);
    const uint32_t tables_end = b.header().data_offset;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const uint32_t at = 8 + rng() % (tables_end - 8);  // keep the magic
      b.data()[at] = static_cast<uint8_t>(rng());
    }
    b.Restamp();
    if (b.Load().status != Status::kOk) ++rejected;
  }
  EXPECT_GT(rejected, 2000);
}

}  // namespace
}  // namespace mcunas::engine
