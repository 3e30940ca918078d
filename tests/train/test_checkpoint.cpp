// Checkpoint files: the round trip of every field, the kinds, reading format 1 (lenetlab up to
// efcfb97), and hostile files: truncated at every byte (with and without a recomputed checksum),
// bad magic, bad checksum, huge or negative sizes, wrong field types, a newer format. Every one
// must be an Error naming the file, never a crash or an allocation beyond the file's size.
#include <doctest/doctest.h>
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "temp_dir.hpp"
#include "train/checkpoint.hpp"

namespace lenetlab::test {
namespace {

using nlohmann::json;

TrainState sample_state() {
  TrainState s;
  s.run_key = "0123456789abcdef";
  s.kind = CheckpointKind::last;
  s.epoch = 3;
  s.weights_hash = "feedfacecafebeef";
  s.conditions = RunConditions{2, "avx512_core", "2.6.3 (abc, OMP runtime)", "1", "efcfb97"};
  s.params = {{1.5f, -2.25f, 0.0f}, {3.0f}};
  s.optimizer_steps = 42;
  s.optimizer_state = {{0.1f, 0.2f, 0.3f}, {0.4f}, {0.5f, 0.6f, 0.7f}, {0.8f}};
  s.shuffle_rng = {1, 2, 3, 0xFFFFFFFFFFFFFFFFull};
  s.layer_rngs = {{5, 6, 7, 8}};
  s.train_order = {4, 2, 0, 1};
  s.val_indices = {3};
  s.stopper = {0.125, 2, 1};
  s.best_val_accuracy = 0.75;
  s.best_epoch = 2;
  s.best_params = std::vector<std::vector<float>>{{9.0f, 8.0f, 7.0f}, {6.0f}};
  EpochRecord r;
  r.epoch = 3;
  r.train_loss = 0.1 + 0.2;  // not representable in 17 digits' rounding of a naive printer
  r.train_accuracy = 1.0 / 3.0;
  r.val_loss = 2.0 / 3.0;
  r.learning_rate = 1e-3;
  r.seconds = 1.5;
  r.images_per_second = 1234.5;
  s.record = r;
  return s;
}

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A file's parts: the header and the bytes of its arrays.
struct Parts {
  json header;
  std::string arrays;
};

Parts split_file(const std::string& bytes) {
  uint64_t h = 0;
  std::memcpy(&h, bytes.data() + 8, 8);
  return {json::parse(bytes.substr(16, h)), bytes.substr(16 + h, bytes.size() - 16 - h - 8)};
}

/// Magic, header length, header, arrays and a valid checksum; `header_length` overrides the
/// length field.
std::string build_file(const std::string& header_text, const std::string& arrays,
                       std::optional<uint64_t> header_length = std::nullopt) {
  std::string out = "LNLCKPT1";
  const uint64_t h = header_length.value_or(header_text.size());
  out.append(reinterpret_cast<const char*>(&h), 8);
  out += header_text;
  out += arrays;
  const uint64_t sum = XXH3_64bits(out.data(), out.size());
  out.append(reinterpret_cast<const char*>(&sum), 8);
  return out;
}

std::string build_file(const Parts& p) { return build_file(p.header.dump(), p.arrays); }

/// The message of the Error that loading `bytes` throws ("" when it loads).
std::string load_error(const std::filesystem::path& file, const std::string& bytes) {
  write_bytes(file, bytes);
  try {
    load_checkpoint(file);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("train: checkpoint: a last checkpoint round-trips every field bit for bit") {
  TempDir dir;
  const auto file = dir / "run" / "last.ckpt";  // the directory is created
  const TrainState s = sample_state();
  save_checkpoint(file, s);
  const TrainState r = load_checkpoint(file);
  CHECK(r.run_key == s.run_key);
  CHECK(r.kind == CheckpointKind::last);
  CHECK(r.epoch == 3);
  CHECK(r.weights_hash == s.weights_hash);
  REQUIRE(r.conditions.has_value());
  CHECK(r.conditions->threads == 2);
  CHECK(r.conditions->isa == "avx512_core");
  CHECK(r.conditions->onednn_version == s.conditions->onednn_version);
  CHECK(r.conditions->engine_version == "1");
  CHECK(r.conditions->engine_commit == "efcfb97");
  CHECK(r.params == s.params);
  CHECK(r.optimizer_steps == 42);
  CHECK(r.optimizer_state == s.optimizer_state);
  CHECK(r.shuffle_rng == s.shuffle_rng);
  CHECK(r.layer_rngs == s.layer_rngs);
  CHECK(r.train_order == s.train_order);
  CHECK(r.val_indices == s.val_indices);
  CHECK(r.stopper.best == s.stopper.best);
  CHECK(r.stopper.best_epoch == 2);
  CHECK(r.stopper.wait == 1);
  CHECK(r.best_val_accuracy == s.best_val_accuracy);
  CHECK(r.best_epoch == 2);
  CHECK(r.best_params == s.best_params);
  REQUIRE(r.record.has_value());
  CHECK(r.record->train_loss == s.record->train_loss);
  CHECK(r.record->train_accuracy == s.record->train_accuracy);
  CHECK(r.record->val_loss == s.record->val_loss);
  CHECK_FALSE(r.record->val_accuracy.has_value());
  CHECK(split_file(read_bytes(file)).header.at("format") == kCheckpointFormat);
  // Replaced atomically: no temporary file is left beside it.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir / "run")) ++files;
  CHECK(files == 1);
}

TEST_CASE("train: checkpoint: empty arrays (no validation split, no best weights) round-trip") {
  // Stage 2 of a protocol trains without a validation split: val_indices is empty. Reading an empty
  // array once passed a null pointer to memcpy, which UBSan stops on (found by the ASan/UBSan build
  // of the halving-protocol SIGKILL test).
  TempDir dir;
  TrainState s = sample_state();
  s.val_indices.clear();
  s.layer_rngs.clear();
  s.best_params.reset();
  s.best_val_accuracy.reset();
  s.best_epoch.reset();
  const auto file = dir / "last.ckpt";
  save_checkpoint(file, s);
  const TrainState r = load_checkpoint(file);
  CHECK(r.val_indices.empty());
  CHECK(r.layer_rngs.empty());
  CHECK_FALSE(r.best_params.has_value());
  CHECK(r.train_order == s.train_order);
  CHECK(r.params == s.params);
}

TEST_CASE("train: checkpoint: temporary files of a killed writer are removed, nothing else") {
  TempDir dir;
  save_checkpoint(dir / "last.ckpt", sample_state());
  write_bytes(dir / ".last.ckpt.partial-123-0", "torn");
  write_bytes(dir / ".final.ckpt.partial-9-4", "torn");
  write_bytes(dir / "notes.txt", "kept");
  remove_partial_checkpoints(dir.path());
  CHECK(std::filesystem::exists(dir / "last.ckpt"));
  CHECK(std::filesystem::exists(dir / "notes.txt"));
  CHECK_FALSE(std::filesystem::exists(dir / ".last.ckpt.partial-123-0"));
  CHECK_FALSE(std::filesystem::exists(dir / ".final.ckpt.partial-9-4"));
  remove_partial_checkpoints(dir / "absent");  // no error
}

TEST_CASE("train: checkpoint: best and final hold parameters only, kinds by name") {
  TempDir dir;
  TrainState s = sample_state();
  for (const CheckpointKind kind : {CheckpointKind::best, CheckpointKind::final}) {
    CAPTURE(to_string(kind));
    s.kind = kind;
    const auto file = checkpoint_path(dir.path(), kind);
    CHECK(file.filename() == std::string(to_string(kind)) + ".ckpt");
    save_checkpoint(file, s);
    const TrainState r = load_checkpoint(file);
    CHECK(r.kind == kind);
    CHECK(r.params == s.params);
    CHECK(r.optimizer_state.empty());
    CHECK_FALSE(r.record.has_value());
    CHECK(checkpoint_kind_from_string(to_string(kind)) == kind);
  }
  CHECK_FALSE(checkpoint_kind_from_string("LAST").has_value());
  CHECK_FALSE(checkpoint_kind_from_string("").has_value());
}

TEST_CASE("train: checkpoint: format 1 (no conditions) is still read") {
  TempDir dir;
  const auto file = dir / "last.ckpt";
  save_checkpoint(file, sample_state());
  Parts p = split_file(read_bytes(file));
  p.header["format"] = 1;
  p.header.erase("conditions");
  write_bytes(file, build_file(p));
  const TrainState r = load_checkpoint(file);
  CHECK_FALSE(r.conditions.has_value());
  CHECK(r.params == sample_state().params);
  CHECK(r.train_order == sample_state().train_order);
  // Format 2 without its conditions is damaged, not old.
  p.header["format"] = 2;
  CHECK(contains(load_error(file, build_file(p)), "\"conditions\""));
}

TEST_CASE("train: checkpoint: a file cut at any byte is refused") {
  TempDir dir;
  const auto good = dir / "good.ckpt";
  const auto file = dir / "cut.ckpt";
  save_checkpoint(good, sample_state());
  const std::string bytes = read_bytes(good);
  for (size_t size = 0; size < bytes.size(); ++size) {
    CAPTURE(size);
    const std::string cut = bytes.substr(0, size);
    // As cut: the checksum (or the magic) no longer matches.
    CHECK_FALSE(load_error(file, cut).empty());
    // With a checksum recomputed over what is left: the structure itself must be checked.
    if (size >= 16 && size != bytes.size() - 8) {
      std::string resealed = cut;
      const uint64_t sum = XXH3_64bits(resealed.data(), resealed.size());
      resealed.append(reinterpret_cast<const char*>(&sum), 8);
      const std::string error = load_error(file, resealed);
      CHECK_FALSE(error.empty());
      CHECK(contains(error, file.string()));
    }
  }
}

TEST_CASE("train: checkpoint: bad magic, bad checksum, missing and oversized files") {
  TempDir dir;
  const auto file = dir / "last.ckpt";
  save_checkpoint(file, sample_state());
  const std::string bytes = read_bytes(file);

  std::string magic = bytes;
  magic[7] = '2';
  CHECK(contains(load_error(file, magic), "not a lenetlab checkpoint"));

  for (const size_t at : {size_t{9}, size_t{40}, bytes.size() / 2, bytes.size() - 1}) {
    CAPTURE(at);
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    CHECK(contains(load_error(file, flipped), "checksum mismatch"));
  }

  CHECK_THROWS_AS(load_checkpoint(dir / "absent.ckpt"), Error);
  // Refused from its size alone (a sparse file: nothing is written or read).
  const auto huge = dir / "huge.ckpt";
  write_bytes(huge, bytes);
  std::filesystem::resize_file(huge, kMaxCheckpointBytes + 1);
  try {
    load_checkpoint(huge);
    FAIL("a file over the limit loaded");
  } catch (const Error& e) {
    CHECK(contains(e.what(), "too large"));
  }
}

TEST_CASE("train: checkpoint: huge and negative sizes never allocate") {
  TempDir dir;
  const auto file = dir / "last.ckpt";
  save_checkpoint(file, sample_state());
  const Parts good = split_file(read_bytes(file));

  // Header length beyond the file, up to 2^64 - 1.
  for (const uint64_t h : {uint64_t{1} << 40, std::numeric_limits<uint64_t>::max()}) {
    CAPTURE(h);
    CHECK(contains(load_error(file, build_file(good.header.dump(), good.arrays, h)),
                   "header length beyond end of file"));
  }
  // An array count far beyond the bytes that follow: refused before any allocation.
  for (const json& count : {json(uint64_t{1} << 60), json(std::numeric_limits<int64_t>::max()),
                            json(std::numeric_limits<uint64_t>::max()), json(-1), json(1e300)}) {
    CAPTURE(count.dump());
    Parts p = good;
    p.header["arrays"][0]["count"] = count;
    CHECK_FALSE(load_error(file, build_file(p)).empty());
  }
  // Counts of named arrays far beyond the arrays present.
  for (const char* field : {"params", "optimizer_buffers", "layer_rngs"}) {
    CAPTURE(field);
    Parts p = good;
    p.header[field] = std::numeric_limits<int>::max();
    CHECK(contains(load_error(file, build_file(p)), "array named"));
    p.header[field] = -5;
    CHECK(contains(load_error(file, build_file(p)), field));
  }
}

TEST_CASE("train: checkpoint: malformed headers name the field") {
  TempDir dir;
  const auto file = dir / "last.ckpt";
  save_checkpoint(file, sample_state());
  const Parts good = split_file(read_bytes(file));
  struct Case {
    const char* field;
    json value;
    const char* expected;
  };
  for (const Case& c :
       {Case{"epoch", "three", "\"epoch\""}, Case{"epoch", 1e300, "\"epoch\""},
        Case{"epoch", json(int64_t{1} << 40), "\"epoch\""}, Case{"kind", "middle", "\"kind\""},
        Case{"run_key", 7, "\"run_key\""}, Case{"format", 3, "newer"},
        Case{"format", 0, "\"format\""}, Case{"has_best_params", "yes", "\"has_best_params\""},
        Case{"stopper_best", "x", "\"stopper_best\""},
        Case{"arrays", json::object(), "\"arrays\""}}) {
    CAPTURE(c.field);
    CAPTURE(c.value.dump());
    Parts p = good;
    p.header[c.field] = c.value;
    CHECK(contains(load_error(file, build_file(p)), c.expected));
  }
  Parts threads = good;
  threads.header["conditions"]["threads"] = 0;
  CHECK(contains(load_error(file, build_file(threads)), "\"threads\""));
  Parts type = good;
  type.header["arrays"][0]["type"] = "f16";
  CHECK(contains(load_error(file, build_file(type)), "unknown array type"));
  CHECK(contains(load_error(file, build_file("[1, 2", good.arrays)), "malformed header"));
  CHECK(contains(load_error(file, build_file("[]", good.arrays)), "\"format\""));
  // Bytes left over after the arrays the header lists.
  CHECK(contains(load_error(file, build_file(good.header.dump(), good.arrays + "xxxx")),
                 "unexpected bytes"));
}

}  // namespace
}  // namespace lenetlab::test
