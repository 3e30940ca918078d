#include "core/dataset_ref.hpp"

#include <fmt/format.h>

namespace lenetlab {

DatasetRef parse_dataset_ref(std::string_view text) {
  if (text == "mnist") return DatasetRef{DatasetKind::mnist, {}, {}, {}};
  if (text == "fashion-mnist") return DatasetRef{DatasetKind::fashion_mnist, {}, {}, {}};
  if (text.starts_with("csv:")) {
    const std::string_view files = text.substr(4);
    const std::size_t comma = files.find(',');
    if (comma == std::string_view::npos || comma == 0 || comma + 1 == files.size() ||
        files.find(',', comma + 1) != std::string_view::npos) {
      throw DatasetRefError(
          fmt::format("dataset '{}': expected 'csv:TRAIN.csv,TEST.csv' (two file "
                      "names separated by a comma)",
                      text));
    }
    return DatasetRef{DatasetKind::csv,
                      std::filesystem::path(files.substr(0, comma)),
                      std::filesystem::path(files.substr(comma + 1)),
                      {}};
  }
  if (text.starts_with("idx:")) {
    if (text.size() == 4)
      throw DatasetRefError(fmt::format(
          "dataset '{}': expected 'idx:DIR' (a directory holding the four IDX files)", text));
    DatasetRef ref{DatasetKind::idx, {}, {}, {}};
    ref.idx_dir = std::filesystem::path(text.substr(4));
    return ref;
  }
  throw DatasetRefError(
      fmt::format("unknown dataset '{}'; valid choices: mnist, fashion-mnist, "
                  "csv:TRAIN.csv,TEST.csv, idx:DIR",
                  text));
}

}  // namespace lenetlab
