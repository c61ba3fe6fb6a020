// Child processes for the board drivers: a long-running server (QEMU,
// OpenOCD) whose output goes to a log file and which is killed with its
// owner, and one-shot commands whose output is captured. Private to
// devices/. A Subprocess is not thread-safe; RunCommand is.
#ifndef MCUNAS_DEVICES_SRC_SUBPROCESS_H_
#define MCUNAS_DEVICES_SRC_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mcunas::devices {

class Subprocess {
 public:
  // Starts argv[0] (looked up in PATH) with stdin from /dev/null and
  // stdout/stderr appended to `log_path`, in its own process group. The
  // kernel kills it when the calling thread exits (PR_SET_PDEATHSIG), so
  // call from a thread that lives as long as the process is needed (the
  // one that owns the board).
  static absl::StatusOr<std::unique_ptr<Subprocess>> Spawn(
      const std::vector<std::string>& argv, const std::string& log_path);

  // Kills and reaps the process if it still runs.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // False once the process has exited (reaped here).
  bool Running();
  // SIGKILL to the process group, then reap. Idempotent.
  void Kill();
  // "running", "exited with status N" or "killed by signal N".
  std::string DescribeExit();
  // The last `max_bytes` of the log, for error messages.
  std::string LogTail(size_t max_bytes = 2000) const;
  const std::string& log_path() const { return log_path_; }

 private:
  Subprocess(pid_t pid, std::string log_path)
      : pid_(pid), log_path_(std::move(log_path)) {}
  pid_t pid_;
  std::string log_path_;
  bool reaped_ = false;
  int wait_status_ = 0;
};

struct CommandResult {
  int exit_status = -1;  // -1 when killed by a signal or the timeout
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv to completion (killing it after `timeout`). Fails only when it
// cannot be started.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout);

// A fresh private directory under $TMPDIR (or /tmp) named prefix-XXXXXX.
absl::StatusOr<std::string> MakeTempDir(const std::string& prefix);
// Removes a directory made by MakeTempDir and everything in it.
void RemoveTree(const std::string& path);

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_SRC_SUBPROCESS_H_
