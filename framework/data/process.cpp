// run_process: posix_spawnp with a pipe for the child's output; no shell, no string interpolation.
#include "data/process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

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

/// The last `max_lines` non-empty lines of a program's output joined with " | ", at most
/// `max_chars` characters (the end is kept), for a one-line error message.
std::string output_tail(const std::string& output, size_t max_lines = 8, size_t max_chars = 600) {
  std::vector<std::string_view> lines;
  std::string_view rest = output;
  while (!rest.empty()) {
    const size_t end = std::min(rest.find('\n'), rest.size());
    std::string_view line = rest.substr(0, end);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (!line.empty()) lines.push_back(line);
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  std::string tail;
  for (size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size(); ++i)
    tail += fmt::format("{}{}", tail.empty() ? "" : " | ", lines[i]);
  if (tail.size() > max_chars) tail = "…" + tail.substr(tail.size() - max_chars);
  return tail.empty() ? "(no output)" : tail;
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

std::string run_checked(const std::vector<std::string>& argv, const std::filesystem::path& cwd) {
  std::string output;
  const int status = run_process(argv, cwd, &output);
  if (status != 0) {
    throw DataError(fmt::format("`{}` failed with exit status {}: {}", fmt::join(argv, " "), status,
                                output_tail(output)));
  }
  return output;
}

}  // namespace lenetlab
