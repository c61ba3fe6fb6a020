// Acceptance on the emulated boards: random MBNet candidates of varied
// shapes (and person_detect, when the TFLite importer is built) give
// byte-identical outputs on qemu-m4, qemu-m7 and qemu-m33 and on the host
// engine; instruction counts repeat exactly; twice the work counts twice the
// instructions. Skips when the runner firmware is not built
// (scripts/cross_build) or QEMU is missing. Labelled slow: minutes.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcunas/devices/board_catalog.h"
#include "mcunas/devices/device.h"
#include "mcunas/devices/emulated_board.h"
#include "runner_session.h"
#include "subprocess.h"
#include "test_models.h"

#ifdef MCUNAS_HAVE_TFLITE
#include "mcunas/tflite/tflite_import.h"
#endif

namespace mcunas::devices {
namespace {

constexpr uint32_t kCandidates = 56;
const char* const kBoards[] = {"qemu-m4", "qemu-m7", "qemu-m33"};

struct Case {
  std::string name;
  std::vector<uint8_t> blob;
  std::vector<int8_t> input;
  std::vector<int8_t> host_output;  // the host engine's (optimised kernels)
};

BoardCatalog Catalog() {
  absl::StatusOr<BoardCatalog> catalog = BoardCatalog::Load(
      std::string(MCUNAS_SOURCE_DIR) + "/devices/boards/boards.txt");
  EXPECT_TRUE(catalog.ok()) << catalog.status();
  return *catalog;
}

// The host engine's outputs for `c`.
void RunOnHost(Case& c) {
  absl::StatusOr<BoardProfile> host = Catalog().Find("host");
  ASSERT_TRUE(host.ok());
  absl::StatusOr<std::unique_ptr<Device>> device =
      OpenDevice(*host, DeviceOptions{});
  ASSERT_TRUE(device.ok());
  absl::StatusOr<RunResult> result = (*device)->Run(c.blob, c.input, {});
  ASSERT_TRUE(result.ok()) << c.name << ": " << result.status();
  c.host_output = result->outputs;
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (uint32_t i = 0; i < kCandidates; ++i) {
    absl::StatusOr<testing::TestModel> model = testing::RandomCandidate(i);
    EXPECT_TRUE(model.ok()) << model.status();
    if (!model.ok()) continue;
    cases.push_back({model->name, model->blob, model->input, {}});
    RunOnHost(cases.back());
  }
  return cases;
}

std::string SkipReason(const BoardProfile& board) {
  absl::StatusOr<CommandResult> qemu =
      RunCommand({"qemu-system-arm", "--version"}, absl::Seconds(10));
  if (!qemu.ok() || qemu->exit_status != 0) return "qemu-system-arm missing";
  absl::StatusOr<std::string> firmware =
      FindFirmware(board, DefaultFirmwareDirs());
  if (!firmware.ok()) {
    return absl::StrCat("runner firmware not built: ",
                        firmware.status().message());
  }
  return "";
}

class BoardConformanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cases_ = new std::vector<Case>(Cases()); }
  static void TearDownTestSuite() {
    delete cases_;
    cases_ = nullptr;
  }
  static std::vector<Case>* cases_;
};
std::vector<Case>* BoardConformanceTest::cases_ = nullptr;

TEST_F(BoardConformanceTest, RandomCandidatesMatchTheHostOnEveryBoard) {
  ASSERT_GE(cases_->size(), 50u);
  size_t largest = 0;
  for (const Case& c : *cases_) largest = std::max(largest, c.blob.size());
  EXPECT_GT(largest, 190'000u) << "no ~200 KB model in the set";
  for (const char* name : kBoards) {
    absl::StatusOr<BoardProfile> board = Catalog().Find(name);
    ASSERT_TRUE(board.ok());
    const std::string skip = SkipReason(*board);
    if (!skip.empty()) GTEST_SKIP() << skip;
    absl::StatusOr<std::string> firmware =
        FindFirmware(*board, DefaultFirmwareDirs());
    EmulatedBoard device(*board, *firmware, DeviceOptions{});
    int identical = 0;
    int repeatable = 0;
    double instructions = 0;
    for (const Case& c : *cases_) {
      RunOptions options;
      options.runs = 3;
      absl::StatusOr<RunResult> result = device.Run(c.blob, c.input, options);
      ASSERT_TRUE(result.ok()) << name << ", " << c.name << ": "
                               << result.status();
      if (result->outputs == c.host_output) {
        ++identical;
      } else {
        ADD_FAILURE() << name << ", " << c.name << ": outputs differ from "
                      << "the host engine's";
      }
      if (result->stats.min == result->stats.max) {
        ++repeatable;
      } else {
        ADD_FAILURE() << name << ", " << c.name << ": counts "
                      << result->stats.min << " .. " << result->stats.max;
      }
      instructions += result->stats.median;
    }
    EXPECT_EQ(device.starts(), 1);
    std::printf(
        "%s: %d/%zu models byte-identical with the host engine, %d/%zu with "
        "identical instruction counts over 3 runs (mean %.0f emulated "
        "instructions per inference)\n",
        name, identical, cases_->size(), repeatable, cases_->size(),
        instructions / static_cast<double>(cases_->size()));
  }
}

// Twice the work: two back-to-back inferences in one measurement against
// one, and a second, fresh QEMU for the same model.
TEST_F(BoardConformanceTest, TwiceTheWorkCountsTwiceAndCountsRepeat) {
  absl::StatusOr<BoardProfile> board = Catalog().Find("qemu-m4");
  ASSERT_TRUE(board.ok());
  const std::string skip = SkipReason(*board);
  if (!skip.empty()) GTEST_SKIP() << skip;
  absl::StatusOr<std::string> firmware =
      FindFirmware(*board, DefaultFirmwareDirs());
  std::map<uint32_t, uint64_t> first_board;  // model index -> ticks
  for (int instance = 0; instance < 2; ++instance) {
    EmulatedBoard device(*board, *firmware, DeviceOptions{});
    for (uint32_t i : {0u, 7u, 12u}) {
      const Case& c = (*cases_)[i];
      ASSERT_TRUE(device.Run(c.blob, c.input, {}).ok());
      RunnerSession* session = device.session_for_testing();
      absl::StatusOr<RunTicks> once = session->Run(1, absl::Seconds(30));
      absl::StatusOr<RunTicks> twice = session->Run(2, absl::Seconds(30));
      ASSERT_TRUE(once.ok() && twice.ok());
      const double ratio = static_cast<double>(twice->total) /
                           static_cast<double>(once->total);
      EXPECT_NEAR(ratio, 2.0, 0.02) << c.name;
      std::printf("%s: %.0f vs %.0f emulated instructions, ratio %.6f\n",
                  c.name.c_str(), device.TicksToInstructions(once->total),
                  device.TicksToInstructions(twice->total), ratio);
      if (instance == 0) {
        first_board[i] = once->total;
      } else {
        EXPECT_EQ(once->total, first_board[i])
            << c.name << ": a fresh QEMU counts differently";
      }
    }
  }
}

#ifdef MCUNAS_HAVE_TFLITE
std::vector<int8_t> ReadBytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::vector<int8_t>((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
}

TEST(PersonDetectTest, MatchesTfliteMicroOnEveryBoard) {
  const std::string dir =
      std::string(MCUNAS_SOURCE_DIR) + "/../shared/models/person_detect";
  absl::StatusOr<tflite::ImportedModel> model =
      tflite::ImportTfliteFile(dir + "/person_detect.tflite");
  if (!model.ok() && absl::IsNotFound(model.status())) {
    GTEST_SKIP() << model.status();
  }
  ASSERT_TRUE(model.ok()) << model.status();
  for (const char* name : kBoards) {
    absl::StatusOr<BoardProfile> board = Catalog().Find(name);
    ASSERT_TRUE(board.ok());
    const std::string skip = SkipReason(*board);
    if (!skip.empty()) GTEST_SKIP() << skip;
    absl::StatusOr<std::string> firmware =
        FindFirmware(*board, DefaultFirmwareDirs());
    EmulatedBoard device(*board, *firmware, DeviceOptions{});
    for (const char* input :
         {"person", "no_person", "seed1", "seed2", "seed3"}) {
      const std::vector<int8_t> in =
          ReadBytes(absl::StrCat(dir, "/input_", input, ".bin"));
      const std::vector<int8_t> tflm =
          ReadBytes(absl::StrCat(dir, "/tflm_out_", input, ".bin"));
      RunOptions options;
      options.runs = 2;
      absl::StatusOr<RunResult> result = device.Run(model->blob, in, options);
      ASSERT_TRUE(result.ok()) << name << ": " << result.status();
      EXPECT_EQ(result->outputs, tflm) << name << ", input " << input;
      EXPECT_EQ(result->stats.min, result->stats.max);
      std::printf("person_detect on %s, input %s: %.0f emulated "
                  "instructions\n",
                  name, input, result->stats.median);
    }
  }
}
#endif  // MCUNAS_HAVE_TFLITE

}  // namespace
}  // namespace mcunas::devices
