#include "data/sha256.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "core/error.hpp"

namespace lenetlab {
namespace {

constexpr std::size_t kHashChunk = std::size_t{1} << 20;  // 1 MiB

struct EvpCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

/// Incremental SHA-256 producing lowercase hex.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
      throw DataError("SHA-256: OpenSSL EVP initialisation failed");
    }
  }
  void update(const void* data, std::size_t size) {
    if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) throw DataError("SHA-256: update failed");
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &size) != 1)
      throw DataError("SHA-256: final failed");
    std::string out;
    out.reserve(2 * size);
    for (unsigned int i = 0; i < size; ++i)
      fmt::format_to(std::back_inserter(out), "{:02x}", digest[i]);
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, EvpCtxDeleter> ctx_;
};

std::string hex_of(const void* data, std::size_t size) {
  Sha256 hash;
  hash.update(data, size);
  return hash.hex();
}

}  // namespace

std::string sha256_hex(std::string_view bytes) { return hex_of(bytes.data(), bytes.size()); }

std::string sha256_hex(std::span<const uint8_t> bytes) {
  return hex_of(bytes.data(), bytes.size());
}

std::string combined_sha256(std::span<const std::string> digests) {
  std::string all;
  for (const std::string& digest : digests) all += digest;
  return sha256_hex(all);
}

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    const bool exists = std::filesystem::is_regular_file(path, ec);
    throw DataError(fmt::format("{}: cannot open for hashing: {}", path.string(),
                                exists ? std::strerror(errno) : "file not found"));
  }
  Sha256 hash;
  std::vector<char> buffer(kHashChunk);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) hash.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw DataError(fmt::format("{}: read error while hashing", path.string()));
  return hash.hex();
}

}  // namespace lenetlab
