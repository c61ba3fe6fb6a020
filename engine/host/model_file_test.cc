#include "mcunas/engine/host/model_file.h"

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"
#include "mcunas/engine/host/model_writer.h"
#include "test_graphs.h"

namespace mcunas::engine {
namespace {

TEST(LoadedModelTest, ReportsMissingFileByPath) {
  auto loaded = LoadedModel::FromFile("/nonexistent/model.mcunas");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(loaded.status().message().find("/nonexistent/model.mcunas"),
            std::string::npos);
}

TEST(LoadedModelTest, ReadsFileAndNamesItOnError) {
  auto blob = WriteModel(testing::TinyMbv2Graph(2));
  ASSERT_TRUE(blob.ok());
  const std::string path = ::testing::TempDir() + "/tiny.mcunas";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(blob->data()), blob->size());
  }
  auto loaded = LoadedModel::FromFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->blob_bytes(), blob->size());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(blob->data()), blob->size() / 2);
  }
  auto truncated = LoadedModel::FromFile(path);
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find(path), std::string::npos);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos)
      << truncated.status();
  std::remove(path.c_str());
}

TEST(ValidatePlanTest, CatchesOverlappingLiveTensors) {
  auto blob = WriteModel(testing::TinyMbv2Graph(3));
  ASSERT_TRUE(blob.ok());
  // Move the stem output (live until the residual add) onto the first
  // expand output: structurally valid, but the plan is now wrong.
  auto* h = reinterpret_cast<ModelHeader*>(blob->data());
  auto* ops = reinterpret_cast<OpRecord*>(blob->data() + h->op_table_offset);
  auto* tensors =
      reinterpret_cast<TensorRecord*>(blob->data() + h->tensor_table_offset);
  tensors[ops[0].output].offset = tensors[ops[1].output].offset;
  h->crc32 = Crc32(blob->data() + sizeof(ModelHeader),
                   h->total_bytes - sizeof(ModelHeader));
  auto loaded = LoadedModel::FromBytes(*blob);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("overlaps"), std::string::npos)
      << loaded.status();
}

}  // namespace
}  // namespace mcunas::engine
