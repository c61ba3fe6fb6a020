// Test-only helpers shared by the supernet tests: a scratch directory, a
// small synthetic dataset a tiny net learns in a few epochs, the tiny search
// space the training tests use, a finite-difference gradient check and a way
// to run the mcunas-supernet tool as a child process. Nothing here is
// thread-safe.
#ifndef MCUNAS_SUPERNET_TESTING_TEST_DATA_H_
#define MCUNAS_SUPERNET_TESTING_TEST_DATA_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mcunas/searchspace/search_space.h"
#include "mcunas/supernet/checkpoint.h"
#include "mcunas/supernet/dataset.h"
#include "mcunas/supernet/mbnet.h"

namespace mcunas::supernet::testing {

// A fresh directory under /tmp, removed with everything in it when the
// object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // `name` inside the directory (the directory itself, with a trailing
  // slash, for "").
  std::string Path(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `n` 8x8 one-channel images in four classes a small net can tell apart: a
// bright square in one of the four quadrants, plus noise drawn from `seed`.
// Image i has class i % 4.
Dataset Quadrants(int32_t n, uint32_t seed);

// Writes an MNIST-style IDX directory into `dir`: 320 Quadrants training
// images and 64 test images, gzip-compressed.
absl::Status WriteIdxDir(const std::string& dir);

// A two-stage space on 8x8 one-channel inputs with four classes (as
// Quadrants): a fixed block, then a stride-2 stage with elastic kernels 3/5,
// expand ratios 2/3 and depths 1-2.
searchspace::SpaceDef TinySpaceDef();

// Compares `analytic` with the central difference of `loss` at p->value[i]
// (a step of 1% of the value, at least 0.01) and restores the value.
void ExpectGradientMatches(Parameter* p, size_t i, float analytic,
                           const std::function<double()>& loss);

// Starts args[0] with the arguments args[1..]: stderr to `log` and stdout to
// `out` (both truncated). Returns the child's pid, or -1 if it did not start.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log,
            const std::string& out = "/dev/null");

// Polls the checkpoint at `path` every 20 ms until its global step reaches
// `step` or two minutes pass, then kills `pid` with SIGKILL and reaps it into
// `*wait_status`. Returns the last global step seen (0 if none).
int64_t KillAtCheckpointStep(pid_t pid, const std::string& path, int64_t step,
                             int* wait_status);

// Runs the training command `args` again with --max-steps at_kill + 3 (stderr
// to `log`) and expects it to exit 0 after resuming from `ckpt` at global
// step `at_kill` and to leave a checkpoint 3 steps further on.
void ExpectResumesForThreeSteps(std::vector<std::string> args,
                                const std::string& ckpt, int64_t at_kill,
                                const std::string& log);

// The whole file at `path` ("" if it cannot be read).
std::string Slurp(const std::string& path);

}  // namespace mcunas::supernet::testing

#endif  // MCUNAS_SUPERNET_TESTING_TEST_DATA_H_
