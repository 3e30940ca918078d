// Whole-file reading with a size limit, atomic (and optionally durable) file replacement, and
// private temporary directories: the one place lenetlab does these (after LevelDB's env.h
// ReadFileToString / WriteStringToFileSync).
//
// Typical uses:
//   std::string text = read_file(path, kMaxYamlBytes);             // throws FileError
//   write_file_atomic(out, html, Durability::kSurvivePowerLoss);   // a report
//   AtomicFile file(path, Durability::kSurvivePowerLoss);          // streamed (a checkpoint)
//   file.write(head.data(), head.size()); ... file.commit();
//   TempDir temp("lenetlab-fetch");                                // removed with its contents
//
// Errors are FileError (a lenetlab::Error): what() is "<path>: <reason>". A module that reports
// its own error type re-throws with reason(): ConfigError(SourceMark{path}, e.reason()),
// DataError(e.what()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace lenetlab {

/// A file or directory could not be read, written, renamed or created.
/// what() is "<path>: <reason>"; path() and reason() give the two parts.
class FileError : public Error {
 public:
  FileError(std::filesystem::path path, const std::string& reason);
  const std::filesystem::path& path() const { return path_; }
  /// What went wrong, without the path, e.g. "file too large (2000 bytes; the limit is 1024
  /// bytes)".
  const std::string& reason() const { return reason_; }

 private:
  std::filesystem::path path_;
  std::string reason_;
};

/// The whole content of the regular file `path`, as bytes (no newline or encoding translation).
/// Checks the size before reading: a file larger than `max_bytes` is refused without reading it,
/// so a wrong path (a disk image, /dev/zero) cannot exhaust memory. Each caller names its limit
/// beside the format it reads (e.g. config's kMaxFileBytes).
/// Throws FileError with one of the reasons "file not found (or not a regular file)",
/// "file too large (N bytes; the limit is M bytes)", "cannot open: <errno text>",
/// "read error after N of M bytes".
std::string read_file(const std::filesystem::path& path, std::uintmax_t max_bytes);

/// What an atomic replacement must survive.
enum class Durability {
  /// Readers see the old or the new content, never a mix, also if the process dies mid-write.
  /// After a power loss or kernel crash the file may hold the old content (or, on some file
  /// systems, be empty). For files that can be made again: caches, fetched data.
  kAtomicOnly,
  /// As kAtomicOnly, and once write_file_atomic / commit() returns the new content is on disk:
  /// the file is fsync'ed before the rename and its directory after it (POSIX; the rename is
  /// only durable once the directory is). For results that cannot be made again: checkpoints,
  /// reports. Costs one or two disk flushes (milliseconds on an SSD).
  kSurvivePowerLoss,
};

/// Writes a file under a temporary name in the destination's directory, then renames it over
/// `path` (rename(2) is atomic within one file system). The temporary name is
/// ".<file name>.partial-<pid>-<n>" (n counts up within the process, so threads never share
/// one); it is removed when writing fails or the object is destroyed before commit(). A process
/// killed mid-write leaves it behind: it never has the final name. Permissions are 0666 minus
/// the umask, as for a file created by std::ofstream.
/// The destination directory must exist (callers create it: whether that is wanted is theirs to
/// decide). Not thread-safe: one object, one thread. Throws FileError naming the temporary or
/// final path and the system error.
class AtomicFile {
 public:
  /// Creates the temporary file (O_EXCL: an existing one is an error, never reused).
  AtomicFile(std::filesystem::path path, Durability durability);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  /// Removes the temporary file unless commit() succeeded. Never throws.
  ~AtomicFile();

  /// Appends `size` bytes. Small writes are buffered (64 KiB); large ones go straight through.
  void write(const void* data, std::size_t size);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  /// Hands the buffered bytes to the operating system (the temporary file then holds everything
  /// written so far; no fsync). For crash tests that stop the process between writing and
  /// renaming.
  void flush();
  /// Flushes, fsyncs (kSurvivePowerLoss), closes, renames over the final path and fsyncs the
  /// directory (kSurvivePowerLoss). Call once; afterwards write() and commit() throw.
  void commit();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  Durability durability_;
  int fd_ = -1;
  bool committed_ = false;
  std::string buffer_;
};

/// One-call AtomicFile: replaces `path` with `bytes`. See AtomicFile for the temporary name, the
/// guarantees of each Durability and the errors.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes,
                       Durability durability);

/// A fresh private directory (mode 0700, mkdtemp) under the system temporary directory
/// ($TMPDIR, else /tmp), named "<prefix>-XXXXXX"; removed with its contents on destruction
/// (errors ignored). Throws FileError if it cannot be created. Move-only.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "lenetlab");
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }
  /// path() / name.
  std::filesystem::path operator/(const std::filesystem::path& name) const { return path_ / name; }

 private:
  void remove() noexcept;
  std::filesystem::path path_;
};

}  // namespace lenetlab
