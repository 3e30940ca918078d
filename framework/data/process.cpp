// run_process: posix_spawnp with a pipe for the child's output; no shell, no string interpolation.
#include "data/process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

extern char** environ;

namespace lenetlab {
namespace {

/// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// Owns a posix_spawn_file_actions_t.
class FileActions {
 public:
  FileActions() {
    if (int rc = posix_spawn_file_actions_init(&actions_); rc != 0) {
      throw DataError(fmt::format("posix_spawn_file_actions_init failed: {}", std::strerror(rc)));
    }
  }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

void check(int rc, const char* what, const std::string& program) {
  if (rc != 0) {
    throw DataError(
        fmt::format("cannot run '{}': {} failed: {}", program, what, std::strerror(rc)));
  }
}

}  // namespace

int run_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                std::string* output) {
  if (argv.empty()) throw DataError("run_process: empty argument list");
  const std::string& program = argv.front();

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  FileActions actions;
  check(posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0),
        "redirecting stdin", program);
  if (!cwd.empty()) {
    check(posix_spawn_file_actions_addchdir_np(actions.get(), cwd.c_str()), "setting directory",
          program);
  }

  UniqueFd read_end;
  UniqueFd write_end;
  if (output != nullptr) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      throw DataError(
          fmt::format("cannot run '{}': pipe failed: {}", program, std::strerror(errno)));
    }
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    // dup2 clears FD_CLOEXEC on the target, so the child keeps stdout/stderr but not the pipe ends.
    check(posix_spawn_file_actions_adddup2(actions.get(), write_end.get(), STDOUT_FILENO),
          "redirecting stdout", program);
    check(posix_spawn_file_actions_adddup2(actions.get(), write_end.get(), STDERR_FILENO),
          "redirecting stderr", program);
  }

  pid_t pid = 0;
  if (int rc = posix_spawnp(&pid, program.c_str(), actions.get(), nullptr, args.data(), environ);
      rc != 0) {
    std::string where = cwd.empty() ? std::string() : fmt::format(" in {}", cwd.string());
    throw DataError(fmt::format("cannot run '{}'{}: {}", program, where, std::strerror(rc)));
  }
  write_end.reset();  // Only the child writes; EOF arrives when it exits.

  if (output != nullptr) {
    output->clear();
    char buffer[4096];
    for (;;) {
      ssize_t got = ::read(read_end.get(), buffer, sizeof buffer);
      if (got > 0) {
        output->append(buffer, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        break;
      }
    }
  }

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw DataError(fmt::format("waiting for '{}' failed: {}", program, std::strerror(errno)));
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 128;
}

}  // namespace lenetlab
