#include "core/files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

namespace lenetlab {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kWriteBuffer = std::size_t{64} << 10;  // 64 KiB

std::string errno_text(int error) { return std::strerror(error); }

/// Writes all of [data, data + size) to fd, retrying short writes and EINTR.
void write_all(int fd, const char* data, std::size_t size, const fs::path& where) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw FileError(where, "cannot write: " + errno_text(errno));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

/// fsync of the directory holding an entry, so that a rename into it is durable.
void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw FileError(dir, "cannot open the directory to sync it: " + errno_text(errno));
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) throw FileError(dir, "cannot sync the directory: " + errno_text(error));
}

fs::path directory_of(const fs::path& path) {
  fs::path dir = path.parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

fs::path temp_name_for(const fs::path& path) {
  static std::atomic<unsigned long> counter{0};
  return directory_of(path) / fmt::format(".{}.partial-{}-{}", path.filename().string(),
                                          static_cast<long>(::getpid()), counter++);
}

}  // namespace

FileError::FileError(fs::path path, const std::string& reason)
    : Error(fmt::format("{}: {}", path.string(), reason)),
      path_(std::move(path)),
      reason_(reason) {}

std::string read_file(const fs::path& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw FileError(path, "file not found (or not a regular file)");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FileError(path, "cannot open: " + errno_text(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) throw FileError(path, "cannot stat: " + errno_text(errno));
  const auto size = static_cast<std::uintmax_t>(info.st_size);
  if (size > max_bytes) {
    throw FileError(
        path, fmt::format("file too large ({} bytes; the limit is {} bytes)", size, max_bytes));
  }
  std::string bytes(static_cast<std::size_t>(size), '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw FileError(path, fmt::format("read error after {} of {} bytes{}", done, size,
                                        n < 0 ? ": " + errno_text(errno) : std::string()));
    }
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// AtomicFile

AtomicFile::AtomicFile(fs::path path, Durability durability)
    : path_(std::move(path)), temp_path_(temp_name_for(path_)), durability_(durability) {
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd_ < 0) throw FileError(temp_path_, "cannot create: " + errno_text(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

void AtomicFile::write(const void* data, std::size_t size) {
  if (committed_ || fd_ < 0) throw FileError(temp_path_, "write after commit");
  const char* bytes = static_cast<const char*>(data);
  if (buffer_.size() + size <= kWriteBuffer) {
    buffer_.append(bytes, size);
    return;
  }
  flush();
  if (size >= kWriteBuffer) {
    write_all(fd_, bytes, size, temp_path_);
  } else {
    buffer_.append(bytes, size);
  }
}

void AtomicFile::flush() {
  if (fd_ < 0) return;
  write_all(fd_, buffer_.data(), buffer_.size(), temp_path_);
  buffer_.clear();
}

void AtomicFile::commit() {
  if (committed_ || fd_ < 0) throw FileError(temp_path_, "commit called twice");
  flush();
  if (durability_ == Durability::kSurvivePowerLoss && ::fsync(fd_) != 0)
    throw FileError(temp_path_, "cannot sync to disk: " + errno_text(errno));
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) throw FileError(temp_path_, "cannot close: " + errno_text(errno));
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    throw FileError(
        path_, fmt::format("cannot rename {} to it: {}", temp_path_.string(), errno_text(errno)));
  }
  committed_ = true;
  if (durability_ == Durability::kSurvivePowerLoss) sync_directory(directory_of(path_));
}

void write_file_atomic(const fs::path& path, std::string_view bytes, Durability durability) {
  AtomicFile file(path, durability);
  file.write(bytes);
  file.commit();
}

// ---------------------------------------------------------------------------------------------
// TempDir

TempDir::TempDir(std::string_view prefix) {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string pattern = (base / fmt::format("{}-XXXXXX", prefix)).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw FileError(pattern, "cannot create a temporary directory: " + errno_text(errno));
  path_ = pattern;
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, fs::path())) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, fs::path());
  }
  return *this;
}

TempDir::~TempDir() { remove(); }

void TempDir::remove() noexcept {
  if (path_.empty()) return;
  std::error_code ignored;
  fs::remove_all(path_, ignored);
  path_.clear();
}

}  // namespace lenetlab
