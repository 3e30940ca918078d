// SHA-256 (FIPS 180-4, computed with OpenSSL EVP) as 64 lowercase hex digits: the identity of
// dataset files, of datasets and of pinned npm package files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace lenetlab {

/// SHA-256 of `bytes`. Throws DataError if OpenSSL fails (it does not for valid input).
std::string sha256_hex(std::string_view bytes);
std::string sha256_hex(std::span<const uint8_t> bytes);

/// The identity of a dataset (Dataset::sha256): SHA-256 of the concatenated hex `digests` of its
/// files, in load order.
std::string combined_sha256(std::span<const std::string> digests);

/// SHA-256 of a file's bytes, read in 1 MiB chunks (no size limit: memory stays at 1 MiB).
/// Throws DataError naming the file if it is missing or unreadable.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace lenetlab
