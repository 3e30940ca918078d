#include "train/checkpoint.hpp"

#include <xxhash.h>

#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "core/crash_point.hpp"
#include "core/error.hpp"
#include "core/files.hpp"

namespace lenetlab {

namespace {

using nlohmann::json;

constexpr char kMagic[8] = {'L', 'N', 'L', 'C', 'K', 'P', 'T', '1'};
/// Magic, header length and checksum: the bytes of a file around its header and arrays.
constexpr size_t kEnvelopeBytes = 24;

constexpr std::pair<CheckpointKind, const char*> kKindNames[] = {{CheckpointKind::last, "last"},
                                                                 {CheckpointKind::best, "best"},
                                                                 {CheckpointKind::final, "final"}};

// ---- writing ------------------------------------------------------------------------------------

/// The arrays of a checkpoint: their description for the header and where their bytes are. The
/// bytes are not copied: save_checkpoint streams them to the file from the caller's vectors.
struct ArrayList {
  json meta = json::array();
  std::vector<std::pair<const void*, size_t>> spans;  ///< (data, bytes), in file order
  template <typename T>
  void add(const std::string& name, const char* type, const T* data, size_t count) {
    meta.push_back({{"name", name}, {"type", type}, {"count", count}});
    spans.emplace_back(data, count * sizeof(T));
  }
  void f32(const std::string& name, const std::vector<float>& v) {
    add(name, "f32", v.data(), v.size());
  }
  void f32s(const std::string& prefix, const std::vector<std::vector<float>>& vs) {
    for (size_t i = 0; i < vs.size(); ++i) f32(prefix + std::to_string(i), vs[i]);
  }
  void i64(const std::string& name, const std::vector<int64_t>& v) {
    add(name, "i64", v.data(), v.size());
  }
  void u64(const std::string& name, const uint64_t* v, size_t n) { add(name, "u64", v, n); }
};

template <typename T>
json or_null(const std::optional<T>& v) {
  return v ? json(*v) : json();
}

/// nlohmann writes doubles with 17 significant digits: they read back bit for bit.
json record_json(const EpochRecord& r) {
  return {{"epoch", r.epoch},
          {"train_loss", r.train_loss},
          {"train_accuracy", r.train_accuracy},
          {"val_loss", or_null(r.val_loss)},
          {"val_accuracy", or_null(r.val_accuracy)},
          {"learning_rate", r.learning_rate},
          {"seconds", r.seconds},
          {"images_per_second", r.images_per_second},
          {"data_hash", r.data_hash}};
}

/// The training-state part of a `last` checkpoint's header; adds its arrays to `arrays`.
void add_training_state(json& header, ArrayList& arrays, const TrainState& s) {
  arrays.f32s("optimizer", s.optimizer_state);
  arrays.u64("shuffle_rng", s.shuffle_rng.data(), 4);
  for (size_t i = 0; i < s.layer_rngs.size(); ++i)
    arrays.u64("layer_rng" + std::to_string(i), s.layer_rngs[i].data(), 4);
  arrays.i64("train_order", s.train_order);
  arrays.i64("val_indices", s.val_indices);
  if (s.best_params) arrays.f32s("best_param", *s.best_params);
  header["optimizer_steps"] = s.optimizer_steps;
  header["optimizer_buffers"] = s.optimizer_state.size();
  header["layer_rngs"] = s.layer_rngs.size();
  header["has_best_params"] = s.best_params.has_value();
  header["stopper_best"] = or_null(s.stopper.best);
  header["stopper_best_epoch"] = s.stopper.best_epoch;
  header["stopper_wait"] = s.stopper.wait;
  if (s.record) header["record"] = record_json(*s.record);
  header["best_val_accuracy"] = or_null(s.best_val_accuracy);
  header["best_epoch"] = or_null(s.best_epoch);
}

json make_header(const TrainState& s, ArrayList& arrays) {
  arrays.f32s("param", s.params);
  // Without conditions the file is what format 1 was (format 2 requires them).
  json header = {{"format", s.conditions ? kCheckpointFormat : 1},
                 {"run_key", s.run_key},
                 {"kind", to_string(s.kind)},
                 {"epoch", s.epoch},
                 {"weights_hash", s.weights_hash},
                 {"params", s.params.size()}};
  if (s.conditions) {
    const RunConditions& c = *s.conditions;
    header["conditions"] = {{"threads", c.threads},
                            {"isa", c.isa},
                            {"onednn_version", c.onednn_version},
                            {"engine_version", c.engine_version},
                            {"engine_commit", c.engine_commit}};
  }
  if (s.kind == CheckpointKind::last) add_training_state(header, arrays, s);
  header["arrays"] = arrays.meta;
  return header;
}

// ---- reading ------------------------------------------------------------------------------------

/// Typed access to one JSON object of a header: a missing field or one of the wrong type or range
/// is an Error naming the file and the field (never a nlohmann exception or a narrowing cast).
struct Fields {
  const json& j;
  const std::string& where;  ///< "checkpoint <path>: "

  [[noreturn]] void fail(const char* name, const char* expected) const {
    throw Error(fmt::format("{}header field \"{}\": expected {}", where, name, expected));
  }
  const json& at(const char* name) const {
    if (!j.is_object() || !j.contains(name)) fail(name, "to be present");
    return j[name];
  }
  int64_t integer(const char* name, int64_t lo, int64_t hi) const {
    const json& v = at(name);
    if (!v.is_number_integer()) fail(name, "an integer");
    // The parser gives non-negative integers as unsigned, negative ones as signed.
    const bool fits = v.is_number_unsigned()
                          ? v.get<uint64_t>() <= uint64_t(hi) && int64_t(v.get<uint64_t>()) >= lo
                          : v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
    if (!fits) fail(name, fmt::format("an integer in [{}, {}]", lo, hi).c_str());
    return v.is_number_unsigned() ? int64_t(v.get<uint64_t>()) : v.get<int64_t>();
  }
  int count(const char* name) const {
    return int(integer(name, 0, std::numeric_limits<int>::max()));
  }
  double number(const char* name) const {
    const json& v = at(name);
    if (!v.is_number()) fail(name, "a number");
    return v.get<double>();
  }
  std::optional<double> optional_number(const char* name) const {
    if (at(name).is_null()) return std::nullopt;
    return number(name);
  }
  std::string text(const char* name) const {
    const json& v = at(name);
    if (!v.is_string()) fail(name, "a string");
    return v.get<std::string>();
  }
  bool flag(const char* name) const {
    const json& v = at(name);
    if (!v.is_boolean()) fail(name, "true or false");
    return v.get<bool>();
  }
};

/// The arrays of a file: where each one's bytes are. Nothing is copied until asked for, and every
/// count was checked against the file's length, so no allocation exceeds the file's size.
class ArrayIndex {
 public:
  ArrayIndex(const std::string& bytes, const Fields& header, size_t first)
      : bytes_(bytes), where_(header.where) {
    const json& list = header.at("arrays");
    if (!list.is_array()) header.fail("arrays", "a list");
    const size_t end = bytes.size() - 8;
    size_t offset = first;
    for (const json& a : list) {
      const Fields f{a, where_};
      const std::string type = f.text("type");
      const size_t elem = type == "f32" ? 4 : type == "i64" || type == "u64" ? 8 : 0;
      if (elem == 0) throw Error(where_ + "unknown array type '" + type + "'");
      const auto count = size_t(f.integer("count", 0, std::numeric_limits<int64_t>::max()));
      if (count > (end - offset) / elem)
        throw Error(where_ + "arrays run past the end of the file");
      entries_[f.text("name")] = {type, offset, count};
      offset += count * elem;
    }
    if (offset != end) throw Error(where_ + "unexpected bytes after the last array");
  }

  std::vector<float> f32(const std::string& name) const { return copy<float>(name, "f32"); }
  std::vector<int64_t> i64(const std::string& name) const { return copy<int64_t>(name, "i64"); }
  std::vector<std::vector<float>> f32s(const std::string& prefix, int n) const {
    std::vector<std::vector<float>> out;
    for (int i = 0; i < n; ++i) out.push_back(f32(prefix + std::to_string(i)));
    return out;
  }
  std::array<uint64_t, 4> u64x4(const std::string& name) const {
    const auto v = copy<uint64_t>(name, "u64");
    if (v.size() != 4) throw Error(where_ + "array '" + name + "' must hold 4 values");
    return {v[0], v[1], v[2], v[3]};
  }

 private:
  struct Entry {
    std::string type;
    size_t offset = 0, count = 0;
  };
  template <typename T>
  std::vector<T> copy(const std::string& name, const char* type) const {
    const auto it = entries_.find(name);
    if (it == entries_.end() || it->second.type != type)
      throw Error(where_ + "no " + type + " array named '" + name + "'");
    std::vector<T> v(it->second.count);
    // An empty array (val_indices of a run without a validation split) has no data pointer, and
    // memcpy's arguments must not be null even for 0 bytes (C11 7.24.1p2).
    if (!v.empty()) std::memcpy(v.data(), bytes_.data() + it->second.offset, v.size() * sizeof(T));
    return v;
  }
  const std::string& bytes_;
  const std::string& where_;
  std::map<std::string, Entry> entries_;
};

/// Reads the whole file; verifies magic and checksum. Returns the bytes, the header and the offset
/// of the first array.
struct Envelope {
  std::string bytes;
  json header;
  size_t first_array = 0;
};

Envelope open_envelope(const std::filesystem::path& path, const std::string& where) {
  Envelope e;
  try {
    e.bytes = read_file(path, kMaxCheckpointBytes);
  } catch (const FileError& error) {
    throw Error(where + error.reason());
  }
  const std::string& bytes = e.bytes;
  if (bytes.size() < kEnvelopeBytes || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw Error(where + "not a lenetlab checkpoint (bad magic or too short)");
  uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  if (XXH3_64bits(bytes.data(), bytes.size() - 8) != stored)
    throw Error(where + "checksum mismatch (file truncated or corrupted)");
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data() + 8, 8);
  if (header_size > bytes.size() - kEnvelopeBytes)
    throw Error(where + "header length beyond end of file");
  try {
    e.header = json::parse(bytes.substr(16, header_size));
  } catch (const json::exception& error) {
    throw Error(where + "malformed header: " + error.what());
  }
  e.first_array = 16 + header_size;
  return e;
}

std::optional<EpochRecord> read_record(const Fields& h) {
  if (!h.j.contains("record")) return std::nullopt;
  const Fields j{h.at("record"), h.where};
  EpochRecord r;
  r.epoch = j.count("epoch");
  r.train_loss = j.number("train_loss");
  r.train_accuracy = j.number("train_accuracy");
  r.val_loss = j.optional_number("val_loss");
  r.val_accuracy = j.optional_number("val_accuracy");
  r.learning_rate = j.number("learning_rate");
  r.seconds = j.number("seconds");
  r.images_per_second = j.number("images_per_second");
  if (j.j.contains("data_hash")) {  // absent in checkpoints of earlier versions
    if (!j.at("data_hash").is_string()) j.fail("data_hash", "a string");
    r.data_hash = j.at("data_hash").get<std::string>();
  }
  return r;
}

/// The header fields every kind has. Format 1 has no conditions.
TrainState read_common(const Fields& h) {
  const auto format = h.integer("format", 1, std::numeric_limits<int>::max());
  if (format > kCheckpointFormat)
    throw Error(fmt::format("{}format {} is newer than this lenetlab reads (1 to {})", h.where,
                            format, kCheckpointFormat));
  TrainState s;
  s.run_key = h.text("run_key");
  const auto kind = checkpoint_kind_from_string(h.text("kind"));
  if (!kind) h.fail("kind", "last, best or final");
  s.kind = *kind;
  s.epoch = h.count("epoch");
  s.weights_hash = h.text("weights_hash");
  if (format >= 2) {
    const Fields c{h.at("conditions"), h.where};
    s.conditions =
        RunConditions{int(c.integer("threads", 1, std::numeric_limits<int>::max())), c.text("isa"),
                      c.text("onednn_version"), c.text("engine_version"), c.text("engine_commit")};
  }
  return s;
}

void read_training_state(const Fields& h, const ArrayIndex& arrays, int n_params, TrainState& s) {
  s.optimizer_steps = h.integer("optimizer_steps", 0, std::numeric_limits<int64_t>::max());
  s.optimizer_state = arrays.f32s("optimizer", h.count("optimizer_buffers"));
  s.shuffle_rng = arrays.u64x4("shuffle_rng");
  for (int i = 0, n = h.count("layer_rngs"); i < n; ++i)
    s.layer_rngs.push_back(arrays.u64x4("layer_rng" + std::to_string(i)));
  s.train_order = arrays.i64("train_order");
  s.val_indices = arrays.i64("val_indices");
  if (h.flag("has_best_params")) s.best_params = arrays.f32s("best_param", n_params);
  s.stopper.best = h.optional_number("stopper_best");
  s.stopper.best_epoch = h.count("stopper_best_epoch");
  s.stopper.wait = h.count("stopper_wait");
  s.best_val_accuracy = h.optional_number("best_val_accuracy");
  if (!h.at("best_epoch").is_null()) s.best_epoch = h.count("best_epoch");
  s.record = read_record(h);
}

std::string where_of(const std::filesystem::path& path) {
  return "checkpoint " + path.string() + ": ";
}

}  // namespace

const char* to_string(CheckpointKind kind) {
  for (const auto& [k, name] : kKindNames)
    if (k == kind) return name;
  return "?";
}

std::optional<CheckpointKind> checkpoint_kind_from_string(std::string_view name) {
  for (const auto& [k, n] : kKindNames)
    if (name == n) return k;
  return std::nullopt;
}

std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir, CheckpointKind kind) {
  return run_dir / (std::string(to_string(kind)) + ".ckpt");
}

void save_checkpoint(const std::filesystem::path& path, const TrainState& s) {
  ArrayList arrays;
  const std::string header_text = make_header(s, arrays).dump();
  std::string head(kMagic, 8);
  const uint64_t header_size = header_text.size();
  head.append(reinterpret_cast<const char*>(&header_size), sizeof header_size);  // little-endian
  head += header_text;

  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);  // else AtomicFile reports it
  AtomicFile file(path, Durability::kSurvivePowerLoss);
  // Streamed: magic, header, arrays straight from the caller's vectors, then XXH3-64 of all that
  // (the same bytes and checksum as assembling the file in memory, without a copy of every array
  // the size of the model).
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                 &XXH3_freeState);
  XXH3_64bits_reset(state.get());
  const auto write = [&](const void* data, size_t size) {
    XXH3_64bits_update(state.get(), data, size);
    file.write(data, size);
  };
  write(head.data(), head.size());
  for (const auto& [data, size] : arrays.spans) write(data, size);
  const uint64_t checksum = XXH3_64bits_digest(state.get());
  file.write(&checksum, sizeof checksum);
  file.flush();
  crash_point("checkpoint-written");
  file.commit();
  crash_point("checkpoint-renamed");
}

TrainState load_checkpoint(const std::filesystem::path& path) {
  const std::string where = where_of(path);
  const Envelope e = open_envelope(path, where);
  const Fields h{e.header, where};
  TrainState s = read_common(h);
  const ArrayIndex arrays(e.bytes, h, e.first_array);
  const int n_params = h.count("params");
  s.params = arrays.f32s("param", n_params);
  if (s.kind == CheckpointKind::last) read_training_state(h, arrays, n_params, s);
  return s;
}

void remove_partial_checkpoints(const std::filesystem::path& run_dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.front() == '.' && name.find(".ckpt.partial-") != std::string::npos)
      std::filesystem::remove(entry.path(), ec);
  }
}

std::filesystem::path checkpoint_dir(const std::filesystem::path& db, const std::string& run_key) {
  return db.parent_path() / "checkpoints" / run_key;
}

}  // namespace lenetlab
