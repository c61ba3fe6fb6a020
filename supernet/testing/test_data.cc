#include "test_data.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

extern char** environ;

namespace mcunas::supernet::testing {

TempDir::TempDir() {
  char tmpl[] = "/tmp/supernet_test_XXXXXX";
  path_ = mkdtemp(tmpl);
}

TempDir::~TempDir() { std::filesystem::remove_all(path_); }

Dataset Quadrants(int32_t n, uint32_t seed) {
  Dataset d;
  d.height = d.width = 8;
  d.channels = 1;
  d.classes = 4;
  uint32_t state = seed;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 24;
  };
  for (int32_t i = 0; i < n; ++i) {
    const int32_t cls = i % 4;
    d.labels.push_back(cls);
    for (int32_t y = 0; y < 8; ++y) {
      for (int32_t x = 0; x < 8; ++x) {
        const bool on = (y / 4) == cls / 2 && (x / 4) == cls % 2;
        d.pixels.push_back(static_cast<uint8_t>(
            std::min<uint32_t>(255, (on ? 160 : 20) + next() % 60)));
      }
    }
  }
  return d;
}

absl::Status WriteIdxDir(const std::string& dir) {
  for (const auto& [prefix, n] :
       std::vector<std::pair<std::string, int>>{{"train", 320}, {"t10k", 64}}) {
    const Dataset d = Quadrants(n, prefix == "train" ? 1 : 2);
    const IdxArray images{{n, 8, 8}, d.pixels};
    const IdxArray labels{
        {n}, std::vector<uint8_t>(d.labels.begin(), d.labels.end())};
    absl::Status s = WriteIdxFile(dir + "/" + prefix + "-images-idx3-ubyte.gz",
                                  images, true);
    if (!s.ok()) return s;
    s = WriteIdxFile(dir + "/" + prefix + "-labels-idx1-ubyte.gz", labels,
                     true);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

searchspace::SpaceDef TinySpaceDef() {
  searchspace::SpaceDef d;
  d.name = "tiny";
  d.input_channels = 1;
  d.classes = 4;
  d.resolutions = {8};
  d.widths_milli = {1000};
  d.channel_divisor = 1;
  d.stem_channels = 4;
  d.stem_kernel = 3;
  d.stem_stride = 1;
  d.stages = {{4, 1, {1}, {3}, {1}}, {8, 2, {1, 2}, {3, 5}, {2, 3}}};
  d.head_channels = 16;
  return d;
}

void ExpectGradientMatches(Parameter* p, size_t i, float analytic,
                           const std::function<double()>& loss) {
  const float saved = p->value[i];
  const float eps = 1e-2f * std::max(1.0f, std::abs(saved));
  p->value[i] = saved + eps;
  const double up = loss();
  p->value[i] = saved - eps;
  const double down = loss();
  p->value[i] = saved;
  const double numeric = (up - down) / (2 * eps);
  EXPECT_NEAR(
      analytic, numeric,
      2e-3 + 5e-2 * std::max(std::abs(numeric), std::abs(double{analytic})))
      << p->name << "[" << i << "]";
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& log,
            const std::string& out) {
  std::vector<char*> argv;
  for (const std::string& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

int64_t KillAtCheckpointStep(pid_t pid, const std::string& path, int64_t step,
                             int* wait_status) {
  int64_t seen = 0;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (seen < step && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    absl::StatusOr<Checkpoint> c = ReadCheckpoint(path);
    if (c.ok()) seen = c->state.global_step;
  }
  kill(pid, SIGKILL);
  waitpid(pid, wait_status, 0);
  return seen;
}

void ExpectResumesForThreeSteps(std::vector<std::string> args,
                                const std::string& ckpt, int64_t at_kill,
                                const std::string& log) {
  args.push_back("--max-steps");
  args.push_back(std::to_string(at_kill + 3));
  const pid_t pid = Spawn(args, log);
  ASSERT_GT(pid, 0);
  int status = 0;
  waitpid(pid, &status, 0);
  const std::string text = Slurp(log);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << text;
  EXPECT_THAT(text, ::testing::HasSubstr("resuming from " + ckpt));
  EXPECT_THAT(text, ::testing::HasSubstr("(global step " +
                                         std::to_string(at_kill) + ")"));
  absl::StatusOr<Checkpoint> after = ReadCheckpoint(ckpt);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state.global_step, at_kill + 3);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace mcunas::supernet::testing
