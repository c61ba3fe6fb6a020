// OpenOCD without a board: the command lines and command sequences, and the
// configuration stage checked by openocd's own parser (config files, adapter
// serial, ports), which runs up to just before it would open the probe.
#include "mcunas/devices/openocd.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcunas/devices/board_catalog.h"
#include "mcunas/devices/device.h"
#include "mcunas/devices/openocd_board.h"
#include "subprocess.h"

namespace mcunas::devices {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

BoardCatalog Catalog() {
  absl::StatusOr<BoardCatalog> catalog = BoardCatalog::Load(
      std::string(MCUNAS_SOURCE_DIR) + "/devices/boards/boards.txt");
  EXPECT_TRUE(catalog.ok()) << catalog.status();
  return catalog.ok() ? *catalog : BoardCatalog();
}

bool HaveOpenOcd() {
  absl::StatusOr<CommandResult> r =
      RunCommand({"openocd", "--version"}, absl::Seconds(10));
  return r.ok() && r->exit_status == 0;
}

TEST(OpenOcdTest, ServerCommandLine) {
  absl::StatusOr<BoardProfile> board = Catalog().Find("stm32f746g-disco");
  ASSERT_TRUE(board.ok());
  OpenOcdPorts ports{4000, 4001};
  EXPECT_THAT(
      OpenOcdServerArgs(*board, "066DFF5", ports, "/fw/runner.elf"),
      ElementsAre("openocd", "-f", "board/stm32f746g-disco.cfg", "-c",
                  "adapter serial {066DFF5}", "-c",
                  "bindto 127.0.0.1; gdb_port 4000; tcl_port 4001; "
                  "telnet_port disabled",
                  "-c", "init", "-c", "program {/fw/runner.elf} verify", "-c",
                  "reset halt"));
  // No serial: OpenOCD takes the first probe it finds.
  EXPECT_THAT(OpenOcdConfigArgs(*board, "", ports),
              ElementsAre("openocd", "-f", "board/stm32f746g-disco.cfg", "-c",
                          "bindto 127.0.0.1; gdb_port 4000; tcl_port 4001; "
                          "telnet_port disabled"));
}

TEST(OpenOcdTest, BlobWriteSequence) {
  EXPECT_THAT(WriteBlobCommands("/tmp/w/model.bin", 0x08040000),
              ElementsAre("flash write_image erase {/tmp/w/model.bin} "
                          "0x08040000 bin",
                          "verify_image {/tmp/w/model.bin} 0x08040000 bin"));
  EXPECT_EQ(ResetHaltCommand(), "reset halt");
}

TEST(OpenOcdTest, OpenOcdAcceptsEveryBoardsConfiguration) {
  if (!HaveOpenOcd()) GTEST_SKIP() << "openocd is not installed";
  int checked = 0;
  const BoardCatalog catalog = Catalog();
  for (const BoardProfile& board : catalog.boards()) {
    if (board.kind != BoardKind::kOpenOcd) continue;
    const absl::Status status =
        CheckOpenOcdConfig(board, "0123456789AB", OpenOcdPorts{53333, 56666});
    EXPECT_TRUE(status.ok()) << board.name << ": " << status;
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(OpenOcdTest, OpenOcdRejectsABadConfiguration) {
  if (!HaveOpenOcd()) GTEST_SKIP() << "openocd is not installed";
  BoardProfile board;
  board.name = "bogus";
  board.kind = BoardKind::kOpenOcd;
  board.openocd_configs = {"board/no-such-board.cfg"};
  absl::Status status = CheckOpenOcdConfig(board, "", OpenOcdPorts{});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("no-such-board.cfg"));
}

// The whole launch path up to the probe: OpenOCD starts with the session
// commands, finds no probe here, exits, and the board reports that rather
// than waiting out its timeouts.
TEST(OpenOcdTest, BoardWithoutProbeFailsFastWithOpenOcdsReason) {
  if (!HaveOpenOcd()) GTEST_SKIP() << "openocd is not installed";
  absl::StatusOr<BoardProfile> board = Catalog().Find("nucleo-f746zg");
  ASSERT_TRUE(board.ok());
  DeviceOptions options;
  options.gdb_port = 53334;
  options.tcl_port = 56667;
  options.adapter_serial = "0123456789AB";
  options.boot_timeout = absl::Seconds(5);
  absl::StatusOr<std::string> firmware =
      FindFirmware(*board, DefaultFirmwareDirs());
  if (!firmware.ok()) GTEST_SKIP() << firmware.status();
  OpenOcdBoard device(*board, *firmware, options);
  const absl::Time start = absl::Now();
  absl::Status status = device.Prepare();
  EXPECT_FALSE(status.ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(60));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("nucleo-f746zg: OpenOCD exited"));
}

}  // namespace
}  // namespace mcunas::devices
