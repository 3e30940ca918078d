// `lenetlab data export-csv` and `lenetlab data score-submission`: a dataset written as
// Kaggle-style CSV files (the Digit Recognizer layout read by data/loaders.hpp read_csv), and a
// Kaggle submission (ImageId,Label) scored against held-back labels. Internal to data/ and cli/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset.hpp"

namespace lenetlab {

/// One file written by export_csv.
struct ExportedFile {
  std::filesystem::path path;
  int64_t rows = 0;  ///< data rows, without the header
  std::string what;  ///< e.g. "labelled training images"
};

/// The Kaggle-style split of export_csv --kaggle: indices into the dataset's images numbered
/// train first then test (0..train.n-1, then train.n..train.n+test.n-1).
struct KaggleSplit {
  std::vector<int64_t> train;  ///< 3/5 of all images (42,000 of MNIST's 70,000)
  std::vector<int64_t> test;   ///< the other 2/5 (28,000 of MNIST's 70,000)
};

/// Orders every image i of `data` (numbered as in KaggleSplit) by the SHA-256 hex digest of the
/// text "lenetlab-kaggle-split <seed> <i>" (ascending; e.g. `printf 'lenetlab-kaggle-split 1 0' |
/// sha256sum`), then takes the first round(3/5 of all) images as training images and the rest as
/// test images, each in that order. The proportions are those of Kaggle's Digit Recognizer
/// (42,000 training and 28,000 test images out of MNIST's 70,000). A pure function of the seed
/// and the image count.
KaggleSplit kaggle_split(int64_t train_n, int64_t test_n, uint64_t seed);

/// Writes `data` as Kaggle-style CSV files in `dir` (created if missing; files replaced
/// atomically).
/// - plain: train.csv and test.csv, both "label,pixel0,...", in the dataset's order.
/// - kaggle: the split of kaggle_split(seed): train.csv ("label,pixel0,..."), test.csv
///   ("pixel0,...", no label column: a prediction set) and test_labels.csv ("ImageId,Label",
///   ImageId counted from 1 in test.csv's row order: the held-back answers, in the format of a
///   submission).
/// Pixels are written as decimal integers 0..255. Returns the files in the order written.
/// Throws DataError when a set has no labels (an unlabelled test set cannot be re-split), or
/// FileError (as DataError) when the directory or a file cannot be written.
std::vector<ExportedFile> export_csv(const Dataset& data, const std::filesystem::path& dir,
                                     bool kaggle, uint64_t seed);

/// A submission scored against the held-back labels.
struct SubmissionScore {
  int64_t images = 0;
  int64_t correct = 0;
  double accuracy() const { return images ? double(correct) / double(images) : 0.0; }
};

/// Reads two "ImageId,Label" files (header line, then one "id,label" row per image; "\r\n" line
/// endings, blanks around values and trailing blank lines accepted) and counts the images whose
/// label in `submission` equals the one in `labels`. Throws DataError naming file:line for a
/// missing or wrong header, a row without two integer fields, a label outside 0..255, an ImageId
/// outside 1..N (N = rows of `labels`) or given twice; and naming the first missing ImageId when
/// the submission does not cover every image of `labels`.
SubmissionScore score_submission(const std::filesystem::path& submission,
                                 const std::filesystem::path& labels);

}  // namespace lenetlab
