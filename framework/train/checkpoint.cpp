#include "train/checkpoint.hpp"

#include <xxhash.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/crash_point.hpp"
#include "core/error.hpp"

namespace lenetlab {

namespace {

constexpr char kMagic[8] = {'L', 'N', 'L', 'C', 'K', 'P', 'T', '1'};

/// Appends raw little-endian bytes (x86-64 is little-endian; the format says so).
template <typename T>
void append(std::string& out, const T* data, size_t count) {
  out.append(reinterpret_cast<const char*>(data), count * sizeof(T));
}

/// The arrays of a checkpoint: their description for the header and where their bytes are. The
/// bytes are not copied: save_checkpoint streams them to the file from the caller's vectors.
struct ArrayList {
  nlohmann::json meta = nlohmann::json::array();
  std::vector<std::pair<const void*, size_t>> spans;  ///< (data, bytes), in file order
  template <typename T>
  void add(const std::string& name, const char* type, const T* data, size_t count) {
    meta.push_back({{"name", name}, {"type", type}, {"count", count}});
    spans.emplace_back(data, count * sizeof(T));
  }
  void f32(const std::string& name, const std::vector<float>& v) {
    add(name, "f32", v.data(), v.size());
  }
  void i64(const std::string& name, const std::vector<int64_t>& v) {
    add(name, "i64", v.data(), v.size());
  }
  void u64(const std::string& name, const uint64_t* v, size_t n) { add(name, "u64", v, n); }
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open checkpoint " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Verifies magic and checksum; returns the header JSON and the offset of the first array.
std::pair<nlohmann::json, size_t> parse(const std::filesystem::path& path,
                                        const std::string& bytes) {
  const std::string where = "checkpoint " + path.string() + ": ";
  if (bytes.size() < 24 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw Error(where + "not a lenetlab checkpoint (bad magic or too short)");
  uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  if (XXH3_64bits(bytes.data(), bytes.size() - 8) != stored)
    throw Error(where + "checksum mismatch (file truncated or corrupted)");
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data() + 8, 8);
  if (header_size > bytes.size() - 24) throw Error(where + "header length beyond end of file");
  try {
    return {nlohmann::json::parse(bytes.substr(16, header_size)), 16 + header_size};
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + "malformed header: " + e.what());
  }
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const TrainState& s) {
  ArrayList arrays;
  for (size_t i = 0; i < s.params.size(); ++i) arrays.f32("param" + std::to_string(i), s.params[i]);
  nlohmann::json header = {
      {"format", 1},      {"run_key", s.run_key},           {"kind", s.kind},
      {"epoch", s.epoch}, {"weights_hash", s.weights_hash}, {"params", s.params.size()}};
  if (s.kind == "last") {
    for (size_t i = 0; i < s.optimizer_state.size(); ++i)
      arrays.f32("optimizer" + std::to_string(i), s.optimizer_state[i]);
    arrays.u64("shuffle_rng", s.shuffle_rng.data(), 4);
    for (size_t i = 0; i < s.layer_rngs.size(); ++i)
      arrays.u64("layer_rng" + std::to_string(i), s.layer_rngs[i].data(), 4);
    arrays.i64("train_order", s.train_order);
    arrays.i64("val_indices", s.val_indices);
    if (s.best_params)
      for (size_t i = 0; i < s.best_params->size(); ++i)
        arrays.f32("best_param" + std::to_string(i), (*s.best_params)[i]);
    header["optimizer_steps"] = s.optimizer_steps;
    header["optimizer_buffers"] = s.optimizer_state.size();
    header["layer_rngs"] = s.layer_rngs.size();
    header["has_best_params"] = s.best_params.has_value();
    header["stopper_best"] = s.stopper_best ? nlohmann::json(*s.stopper_best) : nlohmann::json();
    header["stopper_best_epoch"] = s.stopper_best_epoch;
    header["stopper_wait"] = s.stopper_wait;
    if (s.record) {
      const EpochRecord& r = *s.record;
      auto optional = [](const std::optional<double>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json();
      };
      // nlohmann writes doubles with 17 significant digits: they read back bit for bit.
      header["record"] = {{"epoch", r.epoch},
                          {"train_loss", r.train_loss},
                          {"train_accuracy", r.train_accuracy},
                          {"val_loss", optional(r.val_loss)},
                          {"val_accuracy", optional(r.val_accuracy)},
                          {"learning_rate", r.learning_rate},
                          {"seconds", r.seconds},
                          {"images_per_second", r.images_per_second}};
    }
    header["best_val_accuracy"] =
        s.best_val_accuracy ? nlohmann::json(*s.best_val_accuracy) : nlohmann::json();
    header["best_epoch"] = s.best_epoch ? nlohmann::json(*s.best_epoch) : nlohmann::json();
  }
  header["arrays"] = arrays.meta;
  const std::string header_text = header.dump();
  std::string head(kMagic, 8);
  const uint64_t header_size = header_text.size();
  append(head, &header_size, 1);
  head += header_text;

  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const auto tmp = std::filesystem::path(path.string() + ".tmp");
  {
    // Streamed: magic, header, arrays straight from the caller's vectors, then XXH3-64 of all
    // that (the same bytes and checksum as assembling the file in memory, without a copy of
    // every array the size of the model).
    std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                   &XXH3_freeState);
    XXH3_64bits_reset(state.get());
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    const auto write = [&](const void* data, size_t size) {
      XXH3_64bits_update(state.get(), data, size);
      out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    };
    write(head.data(), head.size());
    for (const auto& [data, size] : arrays.spans) write(data, size);
    const uint64_t checksum = XXH3_64bits_digest(state.get());
    out.write(reinterpret_cast<const char*>(&checksum), sizeof checksum);
    out.flush();
    if (!out) throw Error("cannot write checkpoint " + tmp.string());
  }
  crash_point("checkpoint-written");
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error("cannot rename checkpoint " + tmp.string() + ": " + ec.message());
  crash_point("checkpoint-renamed");
}

TrainState read_checkpoint_header(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  const auto [h, offset] = parse(path, bytes);
  TrainState s;
  s.run_key = h.value("run_key", "");
  s.kind = h.value("kind", "");
  s.epoch = h.value("epoch", 0);
  s.weights_hash = h.value("weights_hash", "");
  return s;
}

TrainState load_checkpoint(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  const auto [h, first] = parse(path, bytes);
  const std::string where = "checkpoint " + path.string() + ": ";
  TrainState s;
  try {
    s.run_key = h.at("run_key").get<std::string>();
    s.kind = h.at("kind").get<std::string>();
    s.epoch = h.at("epoch").get<int>();
    s.weights_hash = h.at("weights_hash").get<std::string>();
    size_t offset = first;
    const size_t end = bytes.size() - 8;
    auto take = [&](size_t count, size_t elem, void* out) {
      if (offset + count * elem > end) throw Error(where + "arrays run past the end of the file");
      std::memcpy(out, bytes.data() + offset, count * elem);
      offset += count * elem;
    };
    std::map<std::string, std::vector<float>> f32;
    std::map<std::string, std::vector<int64_t>> i64;
    std::map<std::string, std::array<uint64_t, 4>> u64;
    for (const auto& a : h.at("arrays")) {
      const auto name = a.at("name").get<std::string>();
      const auto type = a.at("type").get<std::string>();
      const auto count = a.at("count").get<size_t>();
      if (type == "f32") {
        auto& v = f32[name];
        v.resize(count);
        take(count, 4, v.data());
      } else if (type == "i64") {
        auto& v = i64[name];
        v.resize(count);
        take(count, 8, v.data());
      } else if (type == "u64" && count == 4) {
        take(4, 8, u64[name].data());
      } else {
        throw Error(where + "unknown array type '" + type + "'");
      }
    }
    if (offset != end) throw Error(where + "unexpected bytes after the last array");
    const auto n_params = h.at("params").get<size_t>();
    for (size_t i = 0; i < n_params; ++i) s.params.push_back(f32.at("param" + std::to_string(i)));
    if (s.kind == "last") {
      s.optimizer_steps = h.at("optimizer_steps").get<int64_t>();
      for (size_t i = 0; i < h.at("optimizer_buffers").get<size_t>(); ++i)
        s.optimizer_state.push_back(f32.at("optimizer" + std::to_string(i)));
      s.shuffle_rng = u64.at("shuffle_rng");
      for (size_t i = 0; i < h.at("layer_rngs").get<size_t>(); ++i)
        s.layer_rngs.push_back(u64.at("layer_rng" + std::to_string(i)));
      s.train_order = i64.at("train_order");
      s.val_indices = i64.at("val_indices");
      if (h.at("has_best_params").get<bool>()) {
        s.best_params.emplace();
        for (size_t i = 0; i < n_params; ++i)
          s.best_params->push_back(f32.at("best_param" + std::to_string(i)));
      }
      if (!h.at("stopper_best").is_null()) s.stopper_best = h.at("stopper_best").get<double>();
      s.stopper_best_epoch = h.at("stopper_best_epoch").get<int>();
      s.stopper_wait = h.at("stopper_wait").get<int>();
      if (!h.at("best_val_accuracy").is_null())
        s.best_val_accuracy = h.at("best_val_accuracy").get<double>();
      if (!h.at("best_epoch").is_null()) s.best_epoch = h.at("best_epoch").get<int>();
      if (h.contains("record")) {
        const auto& j = h.at("record");
        auto optional = [&](const char* name) -> std::optional<double> {
          if (j.at(name).is_null()) return std::nullopt;
          return j.at(name).get<double>();
        };
        EpochRecord& r = s.record.emplace();
        r.epoch = j.at("epoch").get<int>();
        r.train_loss = j.at("train_loss").get<double>();
        r.train_accuracy = j.at("train_accuracy").get<double>();
        r.val_loss = optional("val_loss");
        r.val_accuracy = optional("val_accuracy");
        r.learning_rate = j.at("learning_rate").get<double>();
        r.seconds = j.at("seconds").get<double>();
        r.images_per_second = j.at("images_per_second").get<double>();
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + "malformed header: " + e.what());
  } catch (const std::out_of_range&) {
    throw Error(where + "an array named in the header is missing");
  }
  return s;
}

std::filesystem::path checkpoint_dir(const std::filesystem::path& db, const std::string& run_key) {
  return db.parent_path() / "checkpoints" / run_key;
}

}  // namespace lenetlab
