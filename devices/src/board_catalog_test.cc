#include "mcunas/devices/board_catalog.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mcunas::devices {
namespace {

using ::testing::HasSubstr;

TEST(BoardCatalogTest, ShippedCatalogHasEveryBoard) {
  absl::StatusOr<BoardCatalog> catalog = BoardCatalog::Load(
      std::string(MCUNAS_SOURCE_DIR) + "/devices/boards/boards.txt");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  for (const char* name :
       {"host", "qemu-m4", "qemu-m7", "qemu-m33", "stm32f746g-disco",
        "nucleo-f746zg", "nucleo-h743zi", "nrf52840-dk"}) {
    EXPECT_TRUE(catalog->Find(name).ok()) << name;
  }
  absl::StatusOr<BoardProfile> m4 = catalog->Find("qemu-m4");
  ASSERT_TRUE(m4.ok());
  EXPECT_EQ(m4->kind, BoardKind::kQemu);
  EXPECT_EQ(m4->core, "cortex-m4");
  EXPECT_EQ(m4->qemu_machine, "mps2-an386");
  EXPECT_EQ(m4->sram_budget, 320u * 1024);
  EXPECT_EQ(m4->flash_budget, 1024u * 1024);
  EXPECT_EQ(m4->latency_unit, LatencyUnit::kEmulatedInstructions);
  absl::StatusOr<BoardProfile> disco = catalog->Find("stm32f746g-disco");
  ASSERT_TRUE(disco.ok());
  EXPECT_EQ(disco->kind, BoardKind::kOpenOcd);
  EXPECT_THAT(disco->openocd_configs,
              ::testing::ElementsAre("board/stm32f746g-disco.cfg"));
  EXPECT_EQ(disco->latency_unit, LatencyUnit::kCycles);
}

TEST(BoardCatalogTest, UnknownBoardNamesTheKnownOnes) {
  absl::StatusOr<BoardCatalog> catalog = BoardCatalog::Parse(
      "[host]\nkind = host\ncore = host\nsram_budget = 1 MiB\n"
      "flash_budget = 2 MiB\n",
      "test");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  absl::StatusOr<BoardProfile> missing = catalog->Find("qemu-m9");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("boards: host"));
}

TEST(BoardCatalogTest, ErrorsNameFileLineAndBoard) {
  absl::StatusOr<BoardCatalog> bad = BoardCatalog::Parse(
      "# comment\n[b]\nkind = qemu\ncolor = red\n", "cat.txt");
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("cat.txt:4: board 'b': unknown key 'color'"));
  bad = BoardCatalog::Parse("[b]\nkind = qemu\ncore = cortex-m4\n", "cat.txt");
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("cat.txt:1: board 'b': missing sram_budget"));
  bad = BoardCatalog::Parse("[b]\nsram_budget = lots\n", "cat.txt");
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("'lots' is not a size"));
  bad = BoardCatalog::Parse("kind = host\n", "cat.txt");
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("before the first [board]"));
}

TEST(BoardCatalogTest, ParsesSizes) {
  EXPECT_EQ(*ParseByteSize("320 KiB"), 320u * 1024);
  EXPECT_EQ(*ParseByteSize("1MiB"), 1u << 20);
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("4096 B"), 4096u);
  EXPECT_FALSE(ParseByteSize("8192 MiB").ok());
  EXPECT_FALSE(ParseByteSize("-1").ok());
}

}  // namespace
}  // namespace mcunas::devices
