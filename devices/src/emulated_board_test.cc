// The emulated boards on real QEMU: the RSP client, the runner firmware's
// timing, budgets enforced on the board, and recovery from hangs, firmware
// faults and a killed QEMU. Skips when the runner firmware is not built
// (scripts/cross_build) or QEMU is missing.
#include "mcunas/devices/emulated_board.h"

#include <signal.h>

#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcunas/devices/board_catalog.h"
#include "mcunas/devices/device.h"
#include "mcunas/devices/rsp_client.h"
#include "mcunas/engine/host/model_writer.h"
#include "runner_session.h"
#include "subprocess.h"
#include "test_graphs.h"
#include "test_models.h"

namespace mcunas::devices {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

bool HaveQemu() {
  absl::StatusOr<CommandResult> r =
      RunCommand({"qemu-system-arm", "--version"}, absl::Seconds(10));
  return r.ok() && r->exit_status == 0;
}

// The board and its firmware, or a reason to skip.
struct BoardUnderTest {
  BoardProfile profile;
  std::string firmware;
  std::string skip;
};

BoardUnderTest Find(const std::string& name) {
  BoardUnderTest b;
  if (!HaveQemu()) {
    b.skip = "qemu-system-arm is not installed";
    return b;
  }
  absl::StatusOr<BoardCatalog> catalog = BoardCatalog::Load(
      std::string(MCUNAS_SOURCE_DIR) + "/devices/boards/boards.txt");
  if (!catalog.ok()) {
    b.skip = std::string(catalog.status().message());
    return b;
  }
  absl::StatusOr<BoardProfile> profile = catalog->Find(name);
  if (!profile.ok()) {
    b.skip = std::string(profile.status().message());
    return b;
  }
  b.profile = *profile;
  absl::StatusOr<std::string> firmware =
      FindFirmware(b.profile, DefaultFirmwareDirs());
  if (!firmware.ok()) {
    b.skip = absl::StrCat("runner firmware not built: ",
                          firmware.status().message());
    return b;
  }
  b.firmware = *firmware;
  return b;
}

#define MCUNAS_BOARD_OR_SKIP(var, name) \
  BoardUnderTest var = Find(name);      \
  if (!var.skip.empty()) GTEST_SKIP() << var.skip

struct Tiny {
  std::vector<uint8_t> blob;
  std::vector<int8_t> input;
  std::vector<int8_t> expected;
};

Tiny TinyModel(uint32_t seed) {
  Tiny t;
  const engine::QuantGraph graph = engine::testing::TinyMbv2Graph(seed);
  absl::StatusOr<std::vector<uint8_t>> blob = engine::WriteModel(graph);
  EXPECT_TRUE(blob.ok()) << blob.status();
  if (blob.ok()) t.blob = *blob;
  t.input = engine::testing::RandomInput(graph, seed);
  t.expected = engine::testing::EvaluateGraph(
      graph, engine::ReferenceKernels(), t.input)[graph.outputs[0]];
  return t;
}

TEST(RspClientTest, DrivesQemuDirectly) {
  MCUNAS_BOARD_OR_SKIP(b, "qemu-m4");
  absl::StatusOr<std::string> dir = MakeTempDir("mcunas-rsp-test");
  ASSERT_TRUE(dir.ok());
  const std::string socket = *dir + "/gdb.sock";
  absl::StatusOr<std::unique_ptr<Subprocess>> qemu = Subprocess::Spawn(
      {"qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
       "-serial", "null", "-chardev",
       "socket,id=gdb,path=" + socket + ",server=on,wait=off", "-gdb",
       "chardev:gdb", "-S"},
      *dir + "/qemu.log");
  ASSERT_TRUE(qemu.ok()) << qemu.status();
  absl::StatusOr<std::unique_ptr<RspClient>> gdb =
      RspClient::Connect("unix:" + socket, absl::Seconds(10));
  ASSERT_TRUE(gdb.ok()) << gdb.status();
  ASSERT_TRUE((*gdb)->Handshake().ok());
  // QEMU's M-profile description: r0-r15 first, xPSR at 25 (HIL.md).
  EXPECT_EQ(*(*gdb)->RegisterNumber("pc"), 15);
  EXPECT_EQ(*(*gdb)->RegisterNumber("xpsr"), 25);
  EXPECT_FALSE((*gdb)->RegisterNumber("no-such-register").ok());

  // Memory round trip over several packets.
  std::vector<uint8_t> data(10000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  ASSERT_TRUE((*gdb)->WriteMemory(0x20001000, data).ok());
  absl::StatusOr<std::vector<uint8_t>> back =
      (*gdb)->ReadMemory(0x20001000, data.size());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, data);

  // Registers, a breakpoint and a run to it: `b .` loops at 0x100 and a
  // breakpoint on the loop stops it.
  const std::vector<uint8_t> loop = {0xfe, 0xe7};  // b .
  ASSERT_TRUE((*gdb)->WriteMemory(0x100, loop).ok());
  ASSERT_TRUE((*gdb)->WriteRegister(15, 0x100).ok());
  ASSERT_TRUE((*gdb)->WriteRegister(25, 0x01000000).ok());
  EXPECT_EQ(*(*gdb)->ReadRegister(15), 0x100u);
  ASSERT_TRUE((*gdb)->InsertBreakpoint(BreakpointType::kSoftware, 0x100).ok());
  absl::StatusOr<StopReply> stop = (*gdb)->Continue(absl::Seconds(5));
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_EQ(stop->signal, 5);
  // Without the breakpoint the loop runs until the timeout interrupts it.
  ASSERT_TRUE((*gdb)->RemoveBreakpoint(BreakpointType::kSoftware, 0x100).ok());
  stop = (*gdb)->Continue(absl::Milliseconds(200));
  EXPECT_EQ(stop.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(stop.status().message()), HasSubstr("interrupted it"));
  // And the session is still usable after the interrupt.
  EXPECT_EQ(*(*gdb)->ReadRegister(15), 0x100u);

  // Pipelined batches and a write watchpoint: `str r1, [r0]` at 0x100, then
  // `b .`. QEMU stops before the store; without the watchpoint it is done.
  constexpr uint32_t kWatched = 0x20002000;
  const std::vector<uint8_t> store = {0x01, 0x60, 0xfe, 0xe7};
  ASSERT_TRUE((*gdb)->WriteMemory(0x100, store).ok());
  ASSERT_TRUE((*gdb)->WriteRegister(0, kWatched).ok());
  ASSERT_TRUE((*gdb)->WriteRegister(1, 0x12345678).ok());
  ASSERT_TRUE((*gdb)->WriteRegister(15, 0x100).ok());
  (*gdb)->set_pipelining(true);
  RspBatch watch;
  const std::vector<uint8_t> zero(4, 0);
  watch.WriteMemory(kWatched, zero);
  const size_t code = watch.ReadMemory(0x100, 4);
  watch.InsertWatchpoint(WatchpointType::kWrite, kWatched, 4);
  absl::StatusOr<RspClient::PipelineResult> hit =
      (*gdb)->Pipeline(watch, absl::Seconds(5));
  ASSERT_TRUE(hit.ok()) << hit.status();
  EXPECT_EQ(hit->reads[code], store);
  EXPECT_TRUE(hit->stop.watchpoint) << hit->stop.raw;
  EXPECT_EQ(hit->stop.watch_address, kWatched);
  EXPECT_EQ(*(*gdb)->ReadRegister(15), 0x100u);
  EXPECT_EQ(*(*gdb)->ReadMemory(kWatched, 4), zero);
  RspBatch unwatch;
  unwatch.RemoveWatchpoint(WatchpointType::kWrite, kWatched, 4);
  absl::StatusOr<RspClient::PipelineResult> ran =
      (*gdb)->Pipeline(unwatch, absl::Milliseconds(200));
  EXPECT_EQ(ran.status().code(), absl::StatusCode::kDeadlineExceeded);
  const std::vector<uint8_t> stored = {0x78, 0x56, 0x34, 0x12};
  EXPECT_EQ(*(*gdb)->ReadMemory(kWatched, 4), stored);
  // An error reply fails the batch once every reply is in; the connection
  // stays in step.
  RspBatch bad;
  bad.RemoveWatchpoint(WatchpointType::kWrite, kWatched, 4);
  bad.ReadMemory(kWatched, 4);
  EXPECT_FALSE((*gdb)->Pipeline(bad).ok());
  EXPECT_EQ(*(*gdb)->ReadMemory(kWatched, 4), stored);
  (*gdb)->Kill();
  qemu->reset();
  RemoveTree(*dir);
}

class EmulatedBoardTest : public ::testing::TestWithParam<const char*> {};

TEST_P(EmulatedBoardTest, SysTickCountsInstructionsAsTheProfileSays) {
  MCUNAS_BOARD_OR_SKIP(b, GetParam());
  EmulatedBoard board(b.profile, b.firmware, DeviceOptions{});
  absl::StatusOr<double> ticks = board.CalibrateTicksPerInstruction();
  ASSERT_TRUE(ticks.ok()) << ticks.status();
  // 2^shift ns per instruction over 1e9 / clock_hz ns per tick.
  const double expected = std::ldexp(1.0, b.profile.icount_shift) *
                          static_cast<double>(b.profile.clock_hz) / 1e9;
  EXPECT_NEAR(*ticks, expected, expected * 1e-4);
}

TEST_P(EmulatedBoardTest, RunsModelsLikeTheHostAndRepeatsExactly) {
  MCUNAS_BOARD_OR_SKIP(b, GetParam());
  EmulatedBoard board(b.profile, b.firmware, DeviceOptions{});
  for (uint32_t seed : {1u, 2u}) {
    const Tiny tiny = TinyModel(seed);
    RunOptions options;
    options.runs = 3;
    absl::StatusOr<RunResult> result = board.Run(tiny.blob, tiny.input, options);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->outputs, tiny.expected);
    EXPECT_EQ(result->unit, LatencyUnit::kEmulatedInstructions);
    ASSERT_EQ(result->latencies.size(), 3u);
    EXPECT_GT(result->latencies[0], 1000);
    EXPECT_EQ(result->latencies[0], result->latencies[1]);
    EXPECT_EQ(result->latencies[1], result->latencies[2]);
    // Reference kernels on the board: same bytes, more instructions.
    options.reference_kernels = true;
    absl::StatusOr<RunResult> reference =
        board.Run(tiny.blob, tiny.input, options);
    ASSERT_TRUE(reference.ok()) << reference.status();
    EXPECT_EQ(reference->outputs, tiny.expected);
    EXPECT_GT(reference->stats.median, result->stats.median);
  }
  EXPECT_EQ(board.starts(), 1);  // one QEMU for all of it
}

INSTANTIATE_TEST_SUITE_P(Boards, EmulatedBoardTest,
                         ::testing::Values("qemu-m4", "qemu-m7", "qemu-m33"));

TEST(EmulatedBoardBudgetTest, HostRefusesOverBudgetModelsSayingByHowMuch) {
  MCUNAS_BOARD_OR_SKIP(b, "qemu-m4");
  const Tiny tiny = TinyModel(3);
  BoardProfile small = b.profile;
  small.sram_budget = 100;
  EmulatedBoard board(small, b.firmware, DeviceOptions{});
  absl::StatusOr<RunResult> result = board.Run(tiny.blob, tiny.input, {});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(result.status().message()),
              MatchesRegex("model needs [0-9]+ B of SRAM, board qemu-m4 has "
                           "100 B \\(over by [0-9]+ B\\)"));
  small = b.profile;
  small.flash_budget = 100;
  EmulatedBoard board2(small, b.firmware, DeviceOptions{});
  result = board2.Run(tiny.blob, tiny.input, {});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(result.status().message()),
              MatchesRegex("model needs [0-9]+ B of flash, board qemu-m4 has "
                           "100 B \\(over by [0-9]+ B\\)"));
}

// The firmware enforces the budgets itself (QEMU has 4 MiB of each).
TEST(EmulatedBoardBudgetTest, FirmwareRefusesOverBudgetModels) {
  MCUNAS_BOARD_OR_SKIP(b, "qemu-m4");
  const Tiny tiny = TinyModel(3);
  EmulatedBoard board(b.profile, b.firmware, DeviceOptions{});
  ASSERT_TRUE(board.Prepare().ok());
  RunnerSession* session = board.session_for_testing();
  bool written = false;
  ASSERT_TRUE(session->PutModel(tiny.blob, &written).ok());
  EXPECT_TRUE(written);
  const uint32_t arena = [&] {
    absl::Status ok = session->Load(0, 0, runner::kFlagVerifyChecksum,
                                    absl::Seconds(5));
    EXPECT_TRUE(ok.ok()) << ok;
    return session->loaded().arena_bytes;
  }();
  absl::Status status =
      session->Load(arena - 16, 0, 0, absl::Seconds(5));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(),
            absl::StrCat("model needs ", arena, " B of SRAM, board qemu-m4 "
                         "has ", arena - 16, " B (over by 16 B)"));
  status = session->Load(0, 1024, 0, absl::Seconds(5));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(),
            absl::StrCat("model needs ", tiny.blob.size(), " B of flash, "
                         "board qemu-m4 has 1024 B (over by ",
                         tiny.blob.size() - 1024, " B)"));
  // A corrupt blob is refused by the firmware's loader with its diagnostic.
  std::vector<uint8_t> corrupt = tiny.blob;
  corrupt[corrupt.size() / 2] ^= 0xFF;
  ASSERT_TRUE(session->PutModel(corrupt, &written).ok());
  status = session->Load(0, 0, runner::kFlagVerifyChecksum, absl::Seconds(5));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("checksum mismatch"));
}

TEST(EmulatedBoardRecoveryTest, HangIsDetectedAndTheBoardRestarted) {
  MCUNAS_BOARD_OR_SKIP(b, "qemu-m4");
  const Tiny tiny = TinyModel(4);
  EmulatedBoard board(b.profile, b.firmware, DeviceOptions{});
  ASSERT_TRUE(board.Run(tiny.blob, tiny.input, {}).ok());
  const absl::Time start = absl::Now();
  absl::Status hang = board.RunTestHook(runner::Command::kHang,
                                        absl::Milliseconds(500));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(hang.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(hang.message()), HasSubstr("the firmware hung"));
  EXPECT_THAT(std::string(hang.message()), HasSubstr("the board was restarted"));
  EXPECT_EQ(board.starts(), 2);
  absl::StatusOr<RunResult> next = board.Run(tiny.blob, tiny.input, {});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->outputs, tiny.expected);
}

TEST(EmulatedBoardRecoveryTest, FirmwareFaultIsReportedAndRecovered) {
  MCUNAS_BOARD_OR_SKIP(b, "qemu-m33");
  const Tiny tiny = TinyModel(5);
  EmulatedBoard board(b.profile, b.firmware, DeviceOptions{});
  absl::Status fault =
      board.RunTestHook(runner::Command::kFault, absl::Seconds(5));
  EXPECT_EQ(fault.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(fault.message()), HasSubstr("the firmware crashed"));
  EXPECT_THAT(std::string(fault.message()), HasSubstr("the board was restarted"));
  absl::StatusOr<RunResult> next = board.Run(tiny.blob, tiny.input, {});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->outputs, tiny.expected);
}

TEST(EmulatedBoardRecoveryTest, KilledQemuIsDetectedAndReplaced) {
  MCUNAS_BOARD_OR_SKIP(b, "qemu-m7");
  const Tiny tiny = TinyModel(6);
  EmulatedBoard board(b.profile, b.firmware, DeviceOptions{});
  ASSERT_TRUE(board.Prepare().ok());
  const pid_t first = board.emulator_pid();
  // Kill QEMU while the firmware is busy (the hang hook keeps it running
  // for up to 20 s): the lost connection must end the wait long before.
  std::thread killer([first] {
    absl::SleepFor(absl::Milliseconds(300));
    kill(first, SIGKILL);
  });
  const absl::Time start = absl::Now();
  absl::Status crash =
      board.RunTestHook(runner::Command::kHang, absl::Seconds(20));
  killer.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(crash.code(), absl::StatusCode::kUnavailable) << crash;
  EXPECT_THAT(std::string(crash.message()), HasSubstr("killed by signal 9"));
  EXPECT_THAT(std::string(crash.message()), HasSubstr("the board was restarted"));
  EXPECT_NE(board.emulator_pid(), first);
  EXPECT_TRUE(board.Health().ok());
  absl::StatusOr<RunResult> next = board.Run(tiny.blob, tiny.input, {});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->outputs, tiny.expected);
}

}  // namespace
}  // namespace mcunas::devices
