#include "data/export.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>
#include <utility>

#include "core/error.hpp"
#include "core/files.hpp"
#include "data/sha256.hpp"

namespace lenetlab {
namespace fs = std::filesystem;
namespace {

/// Largest submission or labels file read (Kaggle's: 28,000 rows, about 200 KB).
constexpr std::uintmax_t kMaxSubmissionBytes = std::uintmax_t{1} << 30;

/// Image `i` of `data`, numbered train first then test; its label (-1 when unlabelled).
std::pair<const uint8_t*, int> image_of(const Dataset& data, int64_t i) {
  const ImageSet& set = i < data.train.n ? data.train : data.test;
  const int64_t j = i < data.train.n ? i : i - data.train.n;
  return {set.image(j), set.labelled ? int{set.labels[static_cast<size_t>(j)]} : -1};
}

/// "pixel0,...,pixelN-1" (after "label," when labelled), and a line break.
std::string csv_header(int64_t pixels, bool labelled) {
  std::string header = labelled ? "label," : "";
  for (int64_t k = 0; k < pixels; ++k) header += fmt::format("{}pixel{}", k ? "," : "", k);
  return header + "\n";
}

void write(const fs::path& path, std::string_view text) {
  try {
    write_file_atomic(path, text, Durability::kAtomicOnly);
  } catch (const FileError& e) {
    throw DataError(e.what());
  }
}

/// Writes images `indices` (numbered as in KaggleSplit) as one CSV file.
ExportedFile write_images(const Dataset& data, const std::vector<int64_t>& indices,
                          const fs::path& path, bool with_labels, std::string what) {
  const int64_t pixels = int64_t{data.train.rows} * data.train.cols;
  std::string text = csv_header(pixels, with_labels);
  text.reserve(text.size() + indices.size() * static_cast<size_t>(pixels) * 3);
  auto out = std::back_inserter(text);
  for (int64_t i : indices) {
    const auto [image, label] = image_of(data, i);
    if (with_labels) fmt::format_to(out, "{},", label);
    for (int64_t k = 0; k < pixels; ++k) fmt::format_to(out, "{}{}", k ? "," : "", int{image[k]});
    text += '\n';
  }
  write(path, text);
  return {path, static_cast<int64_t>(indices.size()), std::move(what)};
}

/// The "ImageId,Label" file of images `indices`, ImageId counted from 1.
ExportedFile write_labels(const Dataset& data, const std::vector<int64_t>& indices,
                          const fs::path& path) {
  std::string text = "ImageId,Label\n";
  for (size_t r = 0; r < indices.size(); ++r)
    text += fmt::format("{},{}\n", r + 1, image_of(data, indices[r]).second);
  write(path, text);
  return {path, static_cast<int64_t>(indices.size()), "held-back labels of test.csv"};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// One integer field of an "ImageId,Label" row, or DataError at file:line.
int64_t id_field(std::string_view field, const fs::path& file, int line, const char* name) {
  field = trim(field);
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (field.empty() || ec != std::errc() || ptr != field.data() + field.size())
    throw DataError(fmt::format("{}:{}: {} '{}' is not an integer", file.string(), line, name,
                                field.substr(0, 24)));
  return value;
}

/// The rows of an "ImageId,Label" file as (ImageId, Label) in file order.
std::vector<std::pair<int64_t, int>> read_id_label_file(const fs::path& file) {
  std::string text;
  try {
    text = read_file(file, kMaxSubmissionBytes);
  } catch (const FileError& e) {
    throw DataError(e.what());
  }
  std::vector<std::pair<int64_t, int>> rows;
  std::string_view rest = text;
  if (rest.starts_with("\xEF\xBB\xBF")) rest.remove_prefix(3);
  for (int line = 1; !rest.empty(); ++line) {
    const size_t end = rest.find('\n');
    const std::string_view row = trim(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const size_t comma = row.find(',');
    if (line == 1) {
      std::string header(row);
      std::transform(header.begin(), header.end(), header.begin(), ::tolower);
      if (header != "imageid,label")
        throw DataError(fmt::format("{}:1: expected the header 'ImageId,Label', found '{}'",
                                    file.string(), row.substr(0, 40)));
      continue;
    }
    if (row.empty()) {
      if (rest.find_first_not_of(" \t\r\n") == std::string_view::npos) break;
      throw DataError(
          fmt::format("{}:{}: empty line: expected 'ImageId,Label'", file.string(), line));
    }
    if (comma == std::string_view::npos || row.find(',', comma + 1) != std::string_view::npos)
      throw DataError(
          fmt::format("{}:{}: expected two columns 'ImageId,Label'", file.string(), line));
    const int64_t id = id_field(row.substr(0, comma), file, line, "ImageId");
    const int64_t label = id_field(row.substr(comma + 1), file, line, "Label");
    if (label < 0 || label > 255)
      throw DataError(fmt::format("{}:{}: Label {} is out of range: expected 0..255", file.string(),
                                  line, label));
    rows.emplace_back(id, static_cast<int>(label));
  }
  if (rows.empty() && text.empty())
    throw DataError(
        fmt::format("{}: empty file: expected 'ImageId,Label' and rows", file.string()));
  return rows;
}

}  // namespace

KaggleSplit kaggle_split(int64_t train_n, int64_t test_n, uint64_t seed) {
  const int64_t total = train_n + test_n;
  std::vector<std::pair<std::string, int64_t>> keyed;
  keyed.reserve(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i)
    keyed.emplace_back(sha256_hex(fmt::format("lenetlab-kaggle-split {} {}", seed, i)), i);
  std::sort(keyed.begin(), keyed.end());
  const auto n_train = static_cast<int64_t>(std::llround(0.6 * double(total)));
  KaggleSplit split;
  for (int64_t r = 0; r < total; ++r)
    (r < n_train ? split.train : split.test).push_back(keyed[static_cast<size_t>(r)].second);
  return split;
}

std::vector<ExportedFile> export_csv(const Dataset& data, const fs::path& dir, bool kaggle,
                                     uint64_t seed) {
  if (!data.train.labelled || !data.test.labelled)
    throw DataError(
        fmt::format("dataset '{}' has images without labels; export-csv writes "
                    "labelled datasets only",
                    data.name));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw DataError(fmt::format("{}: cannot create the directory: {}", dir.string(), ec.message()));
  std::vector<ExportedFile> files;
  if (!kaggle) {
    std::vector<int64_t> train(static_cast<size_t>(data.train.n)),
        test(static_cast<size_t>(data.test.n));
    for (int64_t i = 0; i < data.train.n; ++i) train[static_cast<size_t>(i)] = i;
    for (int64_t i = 0; i < data.test.n; ++i) test[static_cast<size_t>(i)] = data.train.n + i;
    files.push_back(write_images(data, train, dir / "train.csv", true, "labelled training images"));
    files.push_back(write_images(data, test, dir / "test.csv", true, "labelled test images"));
    return files;
  }
  const KaggleSplit split = kaggle_split(data.train.n, data.test.n, seed);
  files.push_back(
      write_images(data, split.train, dir / "train.csv", true, "labelled training images"));
  files.push_back(write_images(data, split.test, dir / "test.csv", false,
                               "test images without labels (a prediction set)"));
  files.push_back(write_labels(data, split.test, dir / "test_labels.csv"));
  return files;
}

namespace {

/// Marks ImageId `id` (of the row after the header's `r`-th, in `file`) as seen; DataError unless
/// it is in 1..seen.size()-1 and was not seen before.
void see_id(int64_t id, std::vector<bool>& seen, const fs::path& file, size_t r) {
  const auto n = static_cast<int64_t>(seen.size()) - 1;
  const bool in_range = id >= 1 && id <= n;
  if (!in_range || seen[static_cast<size_t>(id)])
    throw DataError(fmt::format("{}:{}: ImageId {} is {}: expected each of 1..{} once",
                                file.string(), r + 2, id, in_range ? "repeated" : "out of range",
                                n));
  seen[static_cast<size_t>(id)] = true;
}

}  // namespace

SubmissionScore score_submission(const fs::path& submission, const fs::path& labels) {
  const auto truth = read_id_label_file(labels);
  std::vector<int> expected(truth.size() + 1, -1);
  std::vector<bool> seen(truth.size() + 1, false);
  for (size_t r = 0; r < truth.size(); ++r) {
    see_id(truth[r].first, seen, labels, r);
    expected[static_cast<size_t>(truth[r].first)] = truth[r].second;
  }
  const auto rows = read_id_label_file(submission);
  seen.assign(truth.size() + 1, false);
  SubmissionScore score;
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto [id, label] = rows[r];
    see_id(id, seen, submission, r);
    ++score.images;
    score.correct += label == expected[static_cast<size_t>(id)] ? 1 : 0;
  }
  for (size_t id = 1; id < seen.size(); ++id)
    if (!seen[id])
      throw DataError(
          fmt::format("{}: ImageId {} is missing: expected a row for each of 1..{} ({})",
                      submission.string(), id, truth.size(), labels.string()));
  return score;
}

}  // namespace lenetlab
