#include "mcunas/latency/lut_store.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lut_test_util.h"
#include "sqlite_db.h"

namespace mcunas::latency {
namespace {

// A fresh file path under the test's temporary directory.
devices::BoardProfile Board(const std::string& name,
                            devices::LatencyUnit unit) {
  devices::BoardProfile b;
  b.name = name;
  b.core = "cortex-m4";
  b.latency_unit = unit;
  return b;
}

OpEntry Entry(int32_t channels, double median) {
  OpEntry e;
  e.signature.op = engine::OpType::kConv2D;
  e.signature.activation = engine::Activation::kRelu6;
  e.signature.in_c = 8;
  e.signature.out_c = channels;
  e.n = 3;
  e.median = median;
  e.spread = 1.5;
  return e;
}

TEST(LutStoreTest, EntriesAreKeptPerBoardAndEngineBuild) {
  const std::string path = FreshDbPath("keys");
  auto store = LutStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  const auto m4 = Board("qemu-m4", devices::LatencyUnit::kEmulatedInstructions);
  const auto host = Board("host", devices::LatencyUnit::kNanoseconds);
  ASSERT_TRUE((*store)->RegisterBoard(m4).ok());
  ASSERT_TRUE((*store)->RegisterBoard(host).ok());
  const LutKey a{"qemu-m4", "build-a"}, b{"qemu-m4", "build-b"},
      h{"host", "build-a"};
  ASSERT_TRUE((*store)->PutOpEntries(a, {Entry(16, 100), Entry(32, 200)}).ok());
  ASSERT_TRUE((*store)->PutOpEntries(b, {Entry(16, 90)}).ok());
  ASSERT_TRUE((*store)->PutOpEntries(h, {Entry(16, 5000)}).ok());

  auto ea = (*store)->OpEntries(a);
  ASSERT_TRUE(ea.ok());
  ASSERT_EQ(ea->size(), 2u);
  for (const OpEntry& e : *ea) {
    EXPECT_EQ(e.median, e.signature.out_c == 16 ? 100 : 200);
    EXPECT_EQ(e.n, 3);
    EXPECT_EQ(e.spread, 1.5);
  }
  auto eb = (*store)->OpEntries(b);
  ASSERT_TRUE(eb.ok());
  ASSERT_EQ(eb->size(), 1u);
  EXPECT_EQ((*eb)[0].median, 90);
  auto none = (*store)->OpEntries({"qemu-m4", "build-c"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto builds = (*store)->BuildsWithEntries("qemu-m4");
  ASSERT_TRUE(builds.ok());
  EXPECT_EQ(*builds, (std::vector<std::string>{"build-a", "build-b"}));

  ModelMeasurement m;
  m.arch = "r16-w0.3:k3e1";
  m.purpose = std::string(kPurposeFit);
  m.op_count = 12;
  m.n = 1;
  m.median = 12345;
  ASSERT_TRUE((*store)->PutModel(a, m).ok());
  auto fits = (*store)->Models(a, kPurposeFit);
  ASSERT_TRUE(fits.ok());
  ASSERT_EQ(fits->size(), 1u);
  EXPECT_EQ((*fits)[0].median, 12345);
  EXPECT_EQ((*fits)[0].op_count, 12);
  auto other = (*store)->Models(b, kPurposeFit);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());

  // Reopening finds everything again.
  store->reset();
  auto again = LutStore::Open(path);
  ASSERT_TRUE(again.ok());
  auto summaries = (*again)->Summaries();
  ASSERT_TRUE(summaries.ok());
  ASSERT_EQ(summaries->size(), 3u);
  EXPECT_EQ((*summaries)[0].board, "host");
  EXPECT_EQ((*summaries)[1].board, "qemu-m4");
  EXPECT_EQ((*summaries)[1].engine_build, "build-a");
  EXPECT_EQ((*summaries)[1].op_entries, 2);
  EXPECT_EQ((*summaries)[1].fit_models, 1);
  EXPECT_EQ((*summaries)[1].latency_unit, "emulated instructions");
}

TEST(LutStoreTest, ABoardKeepsItsLatencyUnit) {
  auto store = LutStore::Open(FreshDbPath("unit"));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)
                  ->RegisterBoard(
                      Board("b", devices::LatencyUnit::kEmulatedInstructions))
                  .ok());
  absl::Status again =
      (*store)->RegisterBoard(Board("b", devices::LatencyUnit::kCycles));
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.message().find("emulated instructions"), std::string::npos)
      << again.message();
}

TEST(LutStoreTest, MigratesAVersionOneFileKeepingItsRows) {
  const std::string path = FreshDbPath("migrate");
  {
    // A file as the first schema version left it.
    auto db = SqliteDb::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->Exec(R"sql(
CREATE TABLE boards (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  core TEXT NOT NULL, latency_unit TEXT NOT NULL);
CREATE TABLE engine_builds (id INTEGER PRIMARY KEY,
  build_id TEXT NOT NULL UNIQUE);
CREATE TABLE op_signatures (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,
  op TEXT NOT NULL, kernel INTEGER NOT NULL, stride INTEGER NOT NULL,
  activation TEXT NOT NULL, in_h INTEGER NOT NULL, in_w INTEGER NOT NULL,
  in_c INTEGER NOT NULL, out_h INTEGER NOT NULL, out_w INTEGER NOT NULL,
  out_c INTEGER NOT NULL, quant TEXT NOT NULL);
CREATE TABLE op_samples (board_id INTEGER NOT NULL REFERENCES boards(id),
  build_id INTEGER NOT NULL REFERENCES engine_builds(id),
  signature_id INTEGER NOT NULL REFERENCES op_signatures(id),
  n INTEGER NOT NULL CHECK (n > 0), median REAL NOT NULL,
  spread REAL NOT NULL,
  measured_at TEXT NOT NULL DEFAULT (datetime('now')),
  PRIMARY KEY (board_id, build_id, signature_id));
INSERT INTO boards VALUES (1, 'qemu-m4', 'cortex-m4', 'emulated instructions');
INSERT INTO engine_builds VALUES (1, 'old');
INSERT INTO op_signatures VALUES (1, 'add k0 s0 none 4x4x8>4x4x8 int8',
  'add', 0, 0, 'none', 4, 4, 8, 4, 4, 8, 'int8');
INSERT INTO op_samples (board_id, build_id, signature_id, n, median, spread)
  VALUES (1, 1, 1, 1, 777, 0);
PRAGMA user_version = 1;
)sql")
                    .ok());
  }
  auto store = LutStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  auto entries = (*store)->OpEntries({"qemu-m4", "old"});
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].median, 777);
  EXPECT_EQ((*entries)[0].speed, 1);  // version 3: rows before it unscaled
  EXPECT_EQ((*entries)[0].signature.op, engine::OpType::kAdd);
  auto baseline = (*store)->Baseline({"qemu-m4", "old"});
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  EXPECT_FALSE(baseline->has_value());
  // Version 2's table is there now.
  ModelMeasurement m;
  m.arch = "x";
  m.purpose = std::string(kPurposeValidate);
  m.n = 1;
  EXPECT_TRUE((*store)->PutModel({"qemu-m4", "old"}, m).ok());
}

TEST(LutStoreTest, RefusesNewerSchemasAndFilesThatAreNotDatabases) {
  const std::string newer = FreshDbPath("newer");
  {
    auto db = SqliteDb::Open(newer);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 99").ok());
  }
  auto store = LutStore::Open(newer);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("99"), std::string::npos);

  const std::string junk = FreshDbPath("junk");
  {
    std::ofstream f(junk, std::ios::binary);
    f << std::string(4096, 'x');
  }
  auto bad = LutStore::Open(junk);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(junk), std::string::npos)
      << bad.status();
  // The file is left as it was.
  std::ifstream f(junk, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(f)),
                      std::istreambuf_iterator<char>());
  EXPECT_EQ(content, std::string(4096, 'x'));
}

}  // namespace
}  // namespace mcunas::latency
