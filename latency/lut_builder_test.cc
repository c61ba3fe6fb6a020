// The builder on real devices: the host engine in process, qemu-m4 under
// QEMU, and the mcunas-lut tool killed mid-build and restarted.
#include "mcunas/latency/lut_builder.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lut_test_util.h"
#include "mcunas/devices/board_catalog.h"
#include "mcunas/devices/device.h"
#include "mcunas/latency/engine_build.h"
#include "mcunas/latency/micro_models.h"
#include "mcunas/latency/predictor.h"
#include "mcunas/latency/validation.h"

namespace mcunas::latency {
namespace {

using searchspace::SearchSpace;

SearchSpace SmallSpace() {
  auto space = SearchSpace::Builtin("fashion_mnist");
  EXPECT_TRUE(space.ok());
  auto one = space->Restrict(16, 300);
  EXPECT_TRUE(one.ok());
  return *std::move(one);
}

std::map<std::string, double> EntriesByKey(LutStore& store, const LutKey& key) {
  std::map<std::string, double> out;
  auto entries = store.OpEntries(key);
  EXPECT_TRUE(entries.ok()) << entries.status();
  for (const OpEntry& e : *entries) out[e.signature.Key()] = e.median;
  return out;
}

TEST(LutBuilderTest, HostBuildIsIncremental) {
  const SearchSpace space = SmallSpace();
  const devices::BoardProfile host = CatalogProfile("host");
  auto device = devices::OpenDevice(host, {});
  ASSERT_TRUE(device.ok());
  auto store = LutStore::Open(FreshDbPath("host"));
  ASSERT_TRUE(store.ok());
  auto build = EngineBuildId(host, {});
  ASSERT_TRUE(build.ok());
  EXPECT_EQ(build->rfind("host-", 0), 0u) << *build;
  const LutKey key{"host", *build};
  BuildOptions options;
  options.measure.warmup = 1;
  options.measure.runs = 3;
  options.fit_models = 4;
  int64_t calls = 0;
  auto first = BuildLut(space, **device, **store, key, options,
                        [&](const BuildProgress& p) {
                          ++calls;
                          EXPECT_LE(p.done, p.total);
                        });
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->micro_models_measured, first->micro_models);
  EXPECT_EQ(first->signatures_measured, first->signatures);
  EXPECT_EQ(first->fit_models_measured, 4);
  EXPECT_EQ(calls, first->micro_models + 4);
  const auto before = EntriesByKey(**store, key);
  EXPECT_EQ(static_cast<int64_t>(before.size()), first->signatures);
  for (const auto& [k, median] : before) EXPECT_GT(median, 0) << k;
  // Host times are scaled to the table's reference speed.
  auto baseline = (*store)->Baseline(key);
  ASSERT_TRUE(baseline.ok());
  ASSERT_TRUE(baseline->has_value());
  EXPECT_GT((*baseline)->nominal, 0);
  auto fits = (*store)->Models(key, kPurposeFit);
  ASSERT_TRUE(fits.ok());
  for (const ModelMeasurement& m : *fits) EXPECT_GT(m.speed, 0) << m.arch;

  auto second = BuildLut(space, **device, **store, key, options, nullptr);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->micro_models_measured, 0);
  EXPECT_EQ(second->signatures_measured, 0);
  EXPECT_EQ(second->fit_models_measured, 0);
  EXPECT_EQ(EntriesByKey(**store, key), before);

  auto predictor = LatencyPredictor::Load(**store, key, space);
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  EXPECT_EQ(predictor->overhead().fit_models, 4);
  for (const auto& arch : SampleArchs(space, 10, 77)) {
    auto p = predictor->Predict(arch);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_GT(*p, 0);
  }
}

TEST(LutBuilderTest, QemuM4PredictsHeldOutCandidatesWithinFivePercent) {
  const devices::BoardProfile m4 = CatalogProfile("qemu-m4");
  auto build = EngineBuildId(m4, {});
  if (!build.ok())
    GTEST_SKIP() << "runner firmware not built: " << build.status();
  const SearchSpace space = SmallSpace();
  auto device = devices::OpenDevice(m4, {});
  ASSERT_TRUE(device.ok());
  auto store = LutStore::Open(FreshDbPath("m4"));
  ASSERT_TRUE(store.ok());
  const LutKey key{"qemu-m4", *build};
  BuildOptions options;
  options.fit_models = 6;
  auto report = BuildLut(space, **device, **store, key, options, nullptr);
  ASSERT_TRUE(report.ok()) << report.status();
  auto predictor = LatencyPredictor::Load(**store, key, space);
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  ValidateOptions validate;
  validate.candidates = 12;
  auto result =
      Validate(space, **device, **store, key, *predictor, validate, nullptr);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->cases.size(), 12u);
  EXPECT_GE(result->within_5, 0.9) << FormatReport(*result);
  // Emulated instruction counts do not vary.
  EXPECT_EQ(result->median_noise, 0.0);
  // The fit candidates are never among the held-out ones.
  auto fits = (*store)->Models(key, kPurposeFit);
  ASSERT_TRUE(fits.ok());
  for (const ModelMeasurement& f : *fits) {
    for (const ValidationCase& c : result->cases) EXPECT_NE(f.arch, c.arch);
  }
}

// Runs `args` with stdout to `out_path`; returns the child's pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& out_path) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    std::vector<char*> argv;
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)),
                     std::istreambuf_iterator<char>());
}

TEST(LutBuilderTest, KillingTheBuilderLosesNothingMeasured) {
  const std::string db = FreshDbPath("kill");
  const std::string out = db + ".out";
  const std::vector<std::string> args = {
      MCUNAS_LUT_TOOL, "build", "host", "--db", db, "--quiet", "--resolution",
      "28", "--width", "1.0", "--fit-models", "3",
      // resumability, not accuracy:
      "--repeats", "3"};
  const devices::BoardProfile host = CatalogProfile("host");
  auto build = EngineBuildId(host, {});
  ASSERT_TRUE(build.ok());
  const LutKey key{"host", *build};

  // Kill it (SIGKILL: no clean-up of any kind) once some entries are in.
  const pid_t pid = Spawn(args, out);
  ASSERT_GT(pid, 0);
  size_t seen = 0;
  for (int i = 0; i < 600 && seen < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto store = LutStore::Open(db);
    if (store.ok()) seen = EntriesByKey(**store, key).size();
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the build finished before the kill; "
                                      "use a larger space";
  auto store = LutStore::Open(db);
  ASSERT_TRUE(store.ok()) << store.status();
  const auto before = EntriesByKey(**store, key);
  ASSERT_GE(before.size(), 40u);

  // Restart: it measures only what is missing and keeps what was there.
  const pid_t again = Spawn(args, out);
  ASSERT_EQ(waitpid(again, &status, 0), again);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(out);
  const auto after = EntriesByKey(**store, key);
  for (const auto& [k, median] : before) {
    ASSERT_EQ(after.count(k), 1u) << k;
    EXPECT_EQ(after.at(k), median) << k;
  }
  auto space = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(space.ok());
  auto one = space->Restrict(28, 1000);
  ASSERT_TRUE(one.ok());
  auto models = CoveringMicroModels(*one);
  ASSERT_TRUE(models.ok());
  std::unordered_set<OpSignature, OpSignatureHash> all;
  for (const MicroModel& m : *models) {
    all.insert(m.signatures.begin(), m.signatures.end());
  }
  EXPECT_EQ(after.size(), all.size());
  EXPECT_NE(ReadAll(out).find(absl::StrCat(
                "measured ", all.size() - before.size(), " signatures")),
            std::string::npos)
      << ReadAll(out);

  // The finished table validates through the tool: report, plot and CSV.
  const std::string csv = db + ".csv", svg = db + ".svg";
  const pid_t validate =
      Spawn({MCUNAS_LUT_TOOL, "validate", "host", "--db", db, "--quiet",
             "--resolution", "28", "--width", "1.0", "--candidates", "3",
             "--repeats", "3", "--csv", csv, "--svg", svg},
            out);
  ASSERT_EQ(waitpid(validate, &status, 0), validate);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadAll(out);
  EXPECT_NE(ReadAll(out).find("3 held-out candidates"), std::string::npos)
      << ReadAll(out);
  EXPECT_NE(ReadAll(out).find("scaled to the table's reference speed"),
            std::string::npos)
      << ReadAll(out);
  const std::string rows = ReadAll(csv);
  EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 2 + 3) << rows;
  EXPECT_NE(rows.find("arch,predicted,measured,spread,speed,error_percent"),
            std::string::npos)
      << rows;
  EXPECT_NE(ReadAll(svg).find("<circle"), std::string::npos);
}

}  // namespace
}  // namespace mcunas::latency
