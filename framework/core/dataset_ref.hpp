// The dataset a sweep trains on, as written in sweep files, bench matrices and run configs:
// `mnist`, `fashion-mnist`, `csv:TRAIN.csv,TEST.csv` or `idx:DIR`. One grammar, parsed by one function, so
// that the sweep check (config/) and the loader (data/) accept the same names.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace lenetlab {

enum class DatasetKind { mnist, fashion_mnist, csv, idx };

struct DatasetRef {
  DatasetKind kind = DatasetKind::mnist;
  /// csv only: the training and test files, as written (relative to the working directory).
  std::filesystem::path train_csv, test_csv;
  /// idx only: the directory holding the four IDX files, as written.
  std::filesystem::path idx_dir;
};

/// A dataset name that is not one of the four forms. what() says what was expected and names
/// the valid choices, without a location (callers add theirs: file:line:column, a run).
class DatasetRefError : public Error {
 public:
  using Error::Error;
};

/// Parses `mnist`, `fashion-mnist`, `csv:TRAIN,TEST` (exactly two non-empty file names separated
/// by one comma) or `idx:DIR` (a non-empty directory name). Throws DatasetRefError "unknown
/// dataset 'x'; valid choices: ...", "dataset 'csv:a,b,c': expected 'csv:TRAIN.csv,TEST.csv' (two
/// file names separated by a comma)" or "dataset 'idx:': expected 'idx:DIR' (a directory
/// holding the four IDX files)".
DatasetRef parse_dataset_ref(std::string_view text);

}  // namespace lenetlab
