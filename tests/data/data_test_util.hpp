// Helpers of the data/ tests: synthetic IDX files, writing files, and checking DataError messages.
#pragma once

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace lenetlab::test {

namespace fs = std::filesystem;

using Bytes = std::vector<uint8_t>;

inline void put_be32(Bytes& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 24));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

/// IDX3 image file: `n` images of rows x cols, pixel (i, k) = (i * 31 + k * 7) % 256.
inline Bytes idx_images(uint32_t n, uint32_t rows, uint32_t cols, uint32_t magic = 0x803) {
  Bytes out;
  put_be32(out, magic);
  put_be32(out, n);
  put_be32(out, rows);
  put_be32(out, cols);
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t k = 0; k < rows * cols; ++k)
      out.push_back(static_cast<uint8_t>((i * 31 + k * 7) % 256));
  }
  return out;
}

/// IDX1 label file with the given labels (header count = labels.size() unless `count` is given).
inline Bytes idx_labels(const Bytes& labels, std::optional<uint32_t> count = std::nullopt,
                        uint32_t magic = 0x801) {
  Bytes out;
  put_be32(out, magic);
  put_be32(out, count.value_or(static_cast<uint32_t>(labels.size())));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

inline void write_file(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out.good());
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

inline void write_text(const fs::path& path, const std::string& text) {
  write_file(path, Bytes(text.begin(), text.end()));
}

inline void write_gz(const fs::path& path, const Bytes& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

/// Runs `f`, which must throw DataError; returns its message ("" and a failed check otherwise).
inline std::string data_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const lenetlab::DataError& e) {
    return e.what();
  }
  FAIL_CHECK("expected a DataError, none was thrown");
  return "";
}

/// Checks that `message` contains every one of `parts` (reports the whole message on failure).
inline void check_contains(const std::string& message, std::initializer_list<std::string> parts) {
  for (const std::string& part : parts) {
    INFO("message: ", message);
    CHECK_MESSAGE(message.find(part) != std::string::npos, "missing '", part, "'");
  }
}

/// SHA-256 (hex) of a string with OpenSSL's one-shot API, as an independent reference.
inline std::string reference_sha256(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  REQUIRE(EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) == 1);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 15];
  }
  return hex;
}

}  // namespace lenetlab::test
