#include "subprocess.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace mcunas::devices {
namespace {

// The process state letter from /proc/PID/stat ('Z' for a zombie), or 0
// when the process is gone.
char ProcessState(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(stat, line)) return 0;
  const size_t paren = line.rfind(')');
  return paren + 2 < line.size() ? line[paren + 2] : 0;
}

TEST(SubprocessTest, ChildDiesWithItsKilledOwner) {
  // The owner: a process that starts a long sleep and is then killed with
  // SIGKILL (no destructor runs), as a killed driver would be.
  int pid_pipe[2];
  ASSERT_EQ(pipe(pid_pipe), 0);
  const pid_t owner = fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    auto child = Subprocess::Spawn({"sleep", "60"}, "/dev/null");
    const pid_t pid = child.ok() ? (*child)->pid() : -1;
    (void)!write(pid_pipe[1], &pid, sizeof(pid));
    pause();
    _exit(0);
  }
  close(pid_pipe[1]);
  pid_t child = -1;
  ASSERT_EQ(read(pid_pipe[0], &child, sizeof(child)),
            static_cast<ssize_t>(sizeof(child)));
  close(pid_pipe[0]);
  ASSERT_GT(child, 0);
  EXPECT_NE(ProcessState(child), 0);
  ASSERT_EQ(kill(owner, SIGKILL), 0);
  ASSERT_EQ(waitpid(owner, nullptr, 0), owner);
  char state = ProcessState(child);
  for (int i = 0; i < 100 && state != 0 && state != 'Z'; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    state = ProcessState(child);
  }
  EXPECT_TRUE(state == 0 || state == 'Z') << "state " << state;
}

TEST(SubprocessTest, AMissingProgramIsAnError) {
  auto child =
      Subprocess::Spawn({"/nonexistent/mcunas-no-such-program"}, "/dev/null");
  ASSERT_FALSE(child.ok());
  EXPECT_NE(child.status().message().find("cannot start"), std::string::npos)
      << child.status();
  auto result = RunCommand({"sh", "-c", "echo hi; exit 3"}, absl::Seconds(10));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_status, 3);
  EXPECT_EQ(result->output, "hi\n");
}

}  // namespace
}  // namespace mcunas::devices
