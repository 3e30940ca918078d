// Kaggle-style MNIST CSV reader ("Digit Recognizer" layout: a header line, then
// label,pixel0,...,pixelN rows; or pixel0,...,pixelN rows without labels, a prediction set).
// Parsed in place with std::from_chars: no per-field allocation.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/files.hpp"
#include "data/loaders.hpp"

namespace lenetlab {
namespace {

constexpr int kMaxSide = 4096;

/// Largest CSV file read (MNIST's training set: 110 MB).
constexpr std::uintmax_t kMaxCsvBytes = std::uintmax_t{1} << 31;  // 2 GiB

std::string read_text(const std::filesystem::path& path) {
  try {
    return read_file(path, kMaxCsvBytes);
  } catch (const FileError& e) {
    throw DataError(e.what());
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

size_t count_columns(std::string_view line) {
  return static_cast<size_t>(std::count(line.begin(), line.end(), ',')) + 1;
}

/// A field shortened for an error message.
std::string quoted(std::string_view field) {
  constexpr size_t kMax = 24;
  if (field.size() <= kMax) return fmt::format("'{}'", field);
  return fmt::format("'{}...'", field.substr(0, kMax));
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

/// What every line of one CSV file must hold.
struct CsvShape {
  std::string file;
  bool labelled = true;  ///< the first column is the label
  size_t pixels = 0;
  size_t columns = 0;  ///< pixels, plus 1 when labelled
  int num_classes = 10;
  std::string layout;           ///< "label + RxC pixels" or "RxC pixels", for messages
  std::string expected_header;  ///< "label,pixel0,...,pixelN" or "pixel0,...", for messages
};

/// True when field `column` (0-based) is the label.
bool is_label(const CsvShape& shape, size_t column) { return shape.labelled && column == 0; }

/// "file:line: column N (label|pixelK)" for field `column` (0-based).
std::string field_where(const CsvShape& shape, int line, size_t column) {
  if (is_label(shape, column)) return fmt::format("{}:{}: column 1 (label)", shape.file, line);
  return fmt::format("{}:{}: column {} (pixel{})", shape.file, line, column + 1,
                     column - (shape.labelled ? 1 : 0));
}

/// Parses one field that the fast path did not accept: blanks around it are allowed, anything
/// but a decimal integer is an error naming file:line and column. Range checks are left to the
/// caller.
int parse_field(std::string_view raw, const CsvShape& shape, int line, size_t column) {
  const std::string_view field = trim(raw);
  if (field.empty()) {
    throw DataError(
        fmt::format("{}: empty value: expected an integer", field_where(shape, line, column)));
  }
  int value = 0;
  auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec == std::errc::result_out_of_range) {
    throw DataError(fmt::format("{}: value {} is out of range: expected {}",
                                field_where(shape, line, column), quoted(field),
                                is_label(shape, column)
                                    ? fmt::format("0..{}", shape.num_classes - 1)
                                    : std::string("0..255")));
  }
  if (ec != std::errc() || ptr != field.data() + field.size()) {
    throw DataError(fmt::format("{}: non-numeric value {}: expected an integer",
                                field_where(shape, line, column), quoted(field)));
  }
  return value;
}

/// Line-by-line cursor over the text; strips "\r" of "\r\n" endings.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : rest_(text) {}
  bool next(std::string_view* line) {
    if (rest_.empty()) return false;
    size_t end = rest_.find('\n');
    std::string_view current = rest_.substr(0, end);
    rest_ = end == std::string_view::npos ? std::string_view() : rest_.substr(end + 1);
    if (!current.empty() && current.back() == '\r') current.remove_suffix(1);
    *line = current;
    ++number_;
    return true;
  }
  int number() const { return number_; }
  /// True if nothing but line breaks and blanks is left.
  bool only_blank_left() const {
    return rest_.find_first_not_of(" \t\r\n") == std::string_view::npos;
  }

 private:
  std::string_view rest_;
  int number_ = 0;
};

}  // namespace

namespace {

/// Reads line 1: "label" first (any case) for a labelled file, "pixel0" for a prediction set;
/// completes `shape` (columns, layout, expected header) and checks the number of columns.
void read_header(std::string_view line, int rows, int cols, CsvShape& shape) {
  const std::string labelled_header = fmt::format("label,pixel0,...,pixel{}", shape.pixels - 1);
  std::string_view first = trim(line.substr(0, line.find(',')));
  int ignored = 0;
  auto [ptr, ec] = std::from_chars(first.data(), first.data() + first.size(), ignored);
  if (ec == std::errc() && ptr == first.data() + first.size()) {
    throw DataError(
        fmt::format("{}:1: missing header: expected '{}' (or, for a prediction set without labels, "
                    "'pixel0,...,pixel{}'), found a data row",
                    shape.file, labelled_header, shape.pixels - 1));
  }
  if (equals_ignore_case(first, "pixel0")) {
    shape.labelled = false;
  } else if (!equals_ignore_case(first, "label")) {
    throw DataError(
        fmt::format("{}:1: bad header: expected first column 'label', found {} (or 'pixel0' for "
                    "a prediction set without labels)",
                    shape.file, quoted(first)));
  }
  shape.columns = shape.pixels + (shape.labelled ? 1 : 0);
  shape.layout = fmt::format("{}{}x{} pixels", shape.labelled ? "label + " : "", rows, cols);
  shape.expected_header =
      shape.labelled ? labelled_header : fmt::format("pixel0,...,pixel{}", shape.pixels - 1);
  if (size_t found = count_columns(line); found != shape.columns) {
    throw DataError(fmt::format("{}:1: header has {} columns, expected {} ({})", shape.file, found,
                                shape.columns, shape.layout));
  }
}

/// Parses one data row into its label (0 for a prediction set) and pixels (dst: shape.pixels
/// bytes).
uint8_t read_row(std::string_view line, int line_no, const CsvShape& shape, uint8_t* dst) {
  uint8_t label = 0;
  const char* p = line.data();
  const char* const end = p + line.size();
  for (size_t column = 0; column < shape.columns; ++column) {
    // Fast path: one to three digits followed by ',' or the end of the line.
    int value = 0;
    const char* q = p;
    while (q < end && q - p < 3 && static_cast<unsigned>(*q - '0') < 10) {
      value = value * 10 + (*q++ - '0');
    }
    if (q == p || (q < end && *q != ',')) {
      // Anything else (blanks, signs, long or non-numeric values, empty fields).
      const void* comma = std::memchr(p, ',', static_cast<size_t>(end - p));
      q = comma != nullptr ? static_cast<const char*>(comma) : end;
      value = parse_field(std::string_view(p, static_cast<size_t>(q - p)), shape, line_no, column);
    }
    p = q;
    const bool last = column + 1 == shape.columns;
    if (last ? p != end : p == end) {
      throw DataError(fmt::format("{}:{}: expected {} columns ({}), found {}", shape.file, line_no,
                                  shape.columns, shape.layout, count_columns(line)));
    }
    if (!last) ++p;  // the comma

    if (is_label(shape, column)) {
      if (value < 0 || value >= shape.num_classes) {
        throw DataError(fmt::format("{}: label {} is out of range: expected 0..{}",
                                    field_where(shape, line_no, column), value,
                                    shape.num_classes - 1));
      }
      label = static_cast<uint8_t>(value);
    } else {
      if (value < 0 || value > 255) {
        throw DataError(fmt::format("{}: pixel value {} is out of range: expected 0..255",
                                    field_where(shape, line_no, column), value));
      }
      dst[column - (shape.labelled ? 1 : 0)] = static_cast<uint8_t>(value);
    }
  }
  return label;
}

}  // namespace

ImageSet read_csv(const std::filesystem::path& path, int rows, int cols, int num_classes) {
  const std::string file = path.string();
  if (rows < 1 || cols < 1 || rows > kMaxSide || cols > kMaxSide) {
    throw DataError(fmt::format("{}: image size must be in 1..{} per side, got {}x{}", file,
                                kMaxSide, rows, cols));
  }
  if (num_classes < 1 || num_classes > 256) {
    throw DataError(fmt::format("{}: num_classes must be in 1..256 (labels are bytes), got {}",
                                file, num_classes));
  }
  CsvShape shape;
  shape.file = file;
  shape.pixels = static_cast<size_t>(rows) * static_cast<size_t>(cols);
  shape.num_classes = num_classes;

  const std::string text = read_text(path);
  std::string_view body = text;
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);  // UTF-8 byte order mark
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw DataError(fmt::format(
        "{}: empty file: expected a header line 'label,pixel0,...,pixel{}' and data rows", file,
        shape.pixels - 1));
  }

  LineReader lines(body);
  std::string_view line;
  lines.next(&line);
  read_header(line, rows, cols, shape);

  ImageSet set;
  set.rows = rows;
  set.cols = cols;
  set.labelled = shape.labelled;
  // Room for the rows the text can hold: a row has at least 2 * columns - 1 characters. (Counting
  // line breaks instead let a flood of blank lines reserve gigabytes.)
  const auto line_breaks = static_cast<size_t>(std::count(body.begin(), body.end(), '\n'));
  const size_t max_rows = std::min(line_breaks, body.size() / (2 * shape.columns - 1));
  set.images.reserve(max_rows * shape.pixels);
  if (shape.labelled) set.labels.reserve(max_rows);

  while (lines.next(&line)) {
    const int line_no = lines.number();
    if (trim(line).empty()) {
      if (lines.only_blank_left()) break;  // trailing blank lines are fine
      throw DataError(fmt::format("{}:{}: empty line: expected {} columns ({})", file, line_no,
                                  shape.columns, shape.layout));
    }
    const size_t base = set.images.size();
    set.images.resize(base + shape.pixels);
    const uint8_t label = read_row(line, line_no, shape, set.images.data() + base);
    if (shape.labelled) set.labels.push_back(label);
    ++set.n;
  }

  if (set.n == 0) {
    throw DataError(
        fmt::format("{}: no data rows: expected at least one row after the header", file));
  }
  return set;
}

}  // namespace lenetlab
