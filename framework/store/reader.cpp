#include "store/reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/error.hpp"
#include "store/database.hpp"
#include "store/store.hpp"

namespace lenetlab {

namespace {

// The columns each typed row is read from, in the order the readers below consume them. One list
// per table: a new column is added here and in its reader.

constexpr const char* kSweepColumns = "id, name, file, yaml, created_at, updated_at";

constexpr const char* kRunColumns =
    "r.id, r.key, s.id, s.name, r.name, r.architecture, r.optimizer, r.learning_rate, "
    "r.batch_size, r.epochs, r.seed, r.dataset, r.config_json, r.status, r.error, "
    "r.diverged_epoch, r.parameters, r.trainable_parameters, r.macs_per_image, r.threads, r.host, "
    "r.cpu_model, r.isa, r.onednn_version, r.tbb_version, r.compiler, r.build_type, r.git_commit, "
    "r.dataset_sha256, r.started_at, r.finished_at, r.seconds, r.epochs_completed, r.best_epoch, "
    "r.best_val_accuracy, r.test_loss, r.test_accuracy, r.test_images, r.weights_hash, r.owner, "
    "r.heartbeat_at";

constexpr const char* kEpochColumns =
    "epoch, train_loss, train_accuracy, val_loss, val_accuracy, learning_rate, seconds, "
    "images_per_second, data_hash";

constexpr const char* kVerificationColumns =
    "id, run_id, verified_at, matched, epochs_compared, mismatches, details, threads, isa, "
    "onednn_version, host, git_commit";

constexpr const char* kBenchRunColumns =
    "id, kind, started_at, finished_at, matrix_file, matrix_yaml, dataset, dataset_sha256, host, "
    "cpu_model, cores, load_average, isa, onednn_version, tbb_version, compiler, build_type, "
    "build_flags, git_commit, engine, micro_batch";

constexpr const char* kBenchResultColumns =
    "bench_run_id, architecture, batch_size, threads, mode, images_per_second_min, "
    "images_per_second_median, images_per_second_max, samples, macs_per_image, warmup_steps, "
    "steps, repetitions";

constexpr const char* kBenchProfileColumns =
    "bench_run_id, position, architecture, batch_size, threads, part, direction, ms_per_step, "
    "percent_of_step, in_sum, steps, repetitions";

constexpr const char* kSlurmJobColumns =
    "j.id, s.name, j.job_id, j.cluster, j.tasks, j.array, j.script, j.shard_dir, j.submitted_at";

/// Reads the columns of the current row of a statement left to right.
class Columns {
 public:
  explicit Columns(SQLite::Statement& statement) : statement_(statement) {}
  std::string text() { return next().getString(); }
  int64_t integer() { return next().getInt64(); }
  double real() { return next().getDouble(); }
  std::optional<std::string> optional_text() {
    SQLite::Column c = next();
    if (c.isNull()) return std::nullopt;
    return c.getString();
  }
  std::optional<int64_t> optional_integer() {
    SQLite::Column c = next();
    if (c.isNull()) return std::nullopt;
    return c.getInt64();
  }
  std::optional<double> optional_real() {
    SQLite::Column c = next();
    if (c.isNull()) return std::nullopt;
    return c.getDouble();
  }

 private:
  SQLite::Column next() { return statement_.getColumn(index_++); }
  SQLite::Statement& statement_;
  int index_ = 0;
};

SweepRow read_sweep(Columns c) {
  SweepRow row;
  row.id = c.integer();
  row.name = c.text();
  row.file = c.text();
  row.yaml = c.text();
  row.created_at = c.text();
  row.updated_at = c.text();
  return row;
}

SlurmJobRow read_slurm_job(Columns c) {
  SlurmJobRow row;
  row.id = c.integer();
  row.sweep = c.text();
  row.job_id = c.text();
  row.cluster = c.optional_text();
  row.tasks = c.integer();
  row.array = c.text();
  row.script = c.text();
  row.shard_dir = c.text();
  row.submitted_at = c.text();
  return row;
}

/// The status column; a value outside RunStatus (a hand-edited file) is a StoreError.
RunStatus read_status(Columns& c, int64_t run_id) {
  const std::string name = c.text();
  try {
    return run_status_from_string(name);
  } catch (const Error& e) {
    throw StoreError(fmt::format("run {} has an unknown status: {}", run_id, e.what()));
  }
}

void read_run_results(Columns& c, RunRow& row) {
  row.dataset_sha256 = c.optional_text();
  row.started_at = c.optional_text();
  row.finished_at = c.optional_text();
  row.seconds = c.optional_real();
  row.epochs_completed = c.integer();
  row.best_epoch = c.optional_integer();
  row.best_val_accuracy = c.optional_real();
  row.test_loss = c.optional_real();
  row.test_accuracy = c.optional_real();
  row.test_images = c.optional_integer();
  row.weights_hash = c.optional_text();
  row.owner = c.optional_text();
  row.heartbeat_at = c.optional_text();
}

RunRow read_run(Columns c) {
  RunRow row;
  row.id = c.integer();
  row.key = c.text();
  row.sweep_id = c.integer();
  row.sweep = c.text();
  row.name = c.text();
  row.architecture = c.text();
  row.optimizer = c.text();
  row.learning_rate = c.real();
  row.batch_size = c.integer();
  row.epochs = c.integer();
  row.seed = c.integer();
  row.dataset = c.text();
  row.config_json = c.text();
  row.status = read_status(c, row.id);
  row.error = c.optional_text();
  row.diverged_epoch = c.optional_integer();
  row.parameters = c.optional_integer();
  row.trainable_parameters = c.optional_integer();
  row.macs_per_image = c.optional_integer();
  row.threads = c.optional_integer();
  for (auto* field : {&row.host, &row.cpu_model, &row.isa, &row.onednn_version, &row.tbb_version,
                      &row.compiler, &row.build_type, &row.git_commit})
    *field = c.optional_text();
  read_run_results(c, row);
  return row;
}

EpochRecord read_epoch(Columns c) {
  EpochRecord row;
  row.epoch = static_cast<int>(c.integer());
  row.train_loss = c.real();
  row.train_accuracy = c.real();
  row.val_loss = c.optional_real();
  row.val_accuracy = c.optional_real();
  row.learning_rate = c.real();
  row.seconds = c.real();
  row.images_per_second = c.real();
  row.data_hash = c.optional_text().value_or("");  // NULL: not known (written before schema 6)
  return row;
}

ClassMetrics read_class_metrics(Columns c) {
  ClassMetrics row;
  row.label = static_cast<int>(c.integer());
  row.precision = c.real();
  row.recall = c.real();
  row.f1 = c.real();
  row.support = c.integer();
  return row;
}

ConfusionCell read_confusion(Columns c) {
  ConfusionCell row;
  row.true_label = c.integer();
  row.predicted_label = c.integer();
  row.count = c.integer();
  return row;
}

VerificationRow read_verification(Columns c) {
  VerificationRow row;
  row.id = c.integer();
  row.run_id = c.integer();
  row.verified_at = c.text();
  row.matched = c.integer() != 0;
  row.epochs_compared = c.integer();
  row.mismatches = c.integer();
  row.details = c.text();
  row.threads = c.optional_integer();
  for (auto* field : {&row.isa, &row.onednn_version, &row.host, &row.git_commit})
    *field = c.optional_text();
  return row;
}

PublishedRow read_published(Columns c) {
  PublishedRow row;
  row.sweep = c.text();
  row.architecture = c.text();
  row.test_accuracy = c.real();
  row.required_test_accuracy = c.real();
  row.source = c.text();
  return row;
}

RungRow read_rung(Columns c) {
  RungRow row;
  row.run_id = c.integer();
  row.run_key = c.text();
  row.run_name = c.text();
  row.bracket = static_cast<int>(c.integer());
  row.rung = static_cast<int>(c.integer());
  row.epochs = static_cast<int>(c.integer());
  row.metric = c.text();
  row.metric_value = c.optional_real();
  row.rank = static_cast<int>(c.integer());
  row.candidates = static_cast<int>(c.integer());
  row.promoted = c.integer() != 0;
  return row;
}

SelectionRow read_selection(Columns c) {
  SelectionRow row;
  row.group = c.text();
  row.run_id = c.integer();
  row.run_key = c.text();
  row.run_name = c.text();
  row.metric = c.text();
  row.metric_value = c.real();
  row.tuning_runs = static_cast<int>(c.integer());
  row.settings = static_cast<int>(c.integer());
  return row;
}

BenchRunRow read_bench_run(Columns c) {
  BenchRunRow row;
  row.id = c.integer();
  row.kind = c.text();
  row.started_at = c.text();
  row.finished_at = c.optional_text();
  for (auto* field : {&row.matrix_file, &row.matrix_yaml, &row.dataset, &row.dataset_sha256,
                      &row.host, &row.cpu_model})
    *field = c.text();
  row.cores = c.integer();
  row.load_average = c.optional_real();
  for (auto* field : {&row.isa, &row.onednn_version, &row.tbb_version, &row.compiler,
                      &row.build_type, &row.build_flags, &row.git_commit})
    *field = c.text();
  row.engine = c.integer();
  row.micro_batch = c.optional_integer();
  return row;
}

BenchResultRow read_bench_result(Columns c) {
  BenchResultRow row;
  row.bench_run_id = c.integer();
  row.architecture = c.text();
  row.batch_size = c.integer();
  row.threads = c.integer();
  row.mode = c.text();
  row.images_per_second_min = c.real();
  row.images_per_second_median = c.real();
  row.images_per_second_max = c.real();
  row.samples = c.text();
  row.macs_per_image = c.integer();
  row.warmup_steps = c.integer();
  row.steps = c.integer();
  row.repetitions = c.integer();
  return row;
}

BenchProfileRow read_bench_profile(Columns c) {
  BenchProfileRow row;
  row.bench_run_id = c.integer();
  row.position = c.integer();
  row.architecture = c.text();
  row.batch_size = c.integer();
  row.threads = c.integer();
  row.part = c.text();
  row.direction = c.text();
  row.ms_per_step = c.real();
  row.percent_of_step = c.real();
  row.in_sum = c.integer() != 0;
  row.steps = c.integer();
  row.repetitions = c.integer();
  return row;
}

bool is_decimal(const std::string& text) {
  return !text.empty() && text.size() <= 18 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// Runs `sql` with positional parameters ?1, ?2, ... bound to `params` (int64_t or std::string)
/// and returns read(Columns) of each row. SQLite errors become StoreError naming `what`.
template <typename Read, typename... Params>
auto select(SQLite::Database& db, const std::filesystem::path& path, const std::string& what,
            const std::string& sql, Read read, const Params&... params) {
  std::vector<decltype(read(std::declval<Columns>()))> rows;
  detail::Session session(db);
  try {
    SQLite::Statement statement = session.prepare(sql.c_str());
    int index = 0;
    (statement.bind(++index, params), ...);
    (void)index;
    while (statement.executeStep()) rows.push_back(read(Columns(statement)));
  } catch (const SQLite::Exception& e) {
    throw StoreError(detail::describe_failure(path, "reading " + what, session, e));
  }
  return rows;
}

int64_t read_id(Columns c) { return c.integer(); }

}  // namespace

ResultsReader::ResultsReader(const std::filesystem::path& path)
    : path_(path), db_(detail::open_database(path, detail::OpenMode::read, Store::kBusyTimeout)) {}

ResultsReader::~ResultsReader() = default;

std::vector<SweepRow> ResultsReader::sweeps() const {
  std::lock_guard lock(mutex_);
  return select(*db_, path_, "sweeps",
                fmt::format("SELECT {} FROM sweeps ORDER BY id", kSweepColumns), read_sweep);
}

std::vector<RunRow> ResultsReader::runs(const RunFilter& filter) const {
  const std::string status = filter.status ? to_string(*filter.status) : "";
  std::lock_guard lock(mutex_);
  // Every run once, under the sweep that prepared it; or the runs sweep `filter.sweep` holds
  // (table sweep_runs: also those it found final under another sweep), under that sweep.
  const char* from = filter.sweep.empty()
                         ? "runs r JOIN sweeps s ON s.id = r.sweep_id"
                         : "runs r JOIN sweep_runs m ON m.run_id = r.id JOIN sweeps s ON s.id = "
                           "m.sweep_id";
  return select(*db_, path_, "runs",
                fmt::format("SELECT {} FROM {} "
                            "WHERE (?1 = '' OR s.name = ?1) AND (?2 = '' OR r.status = ?2) AND "
                            "(?3 = '' OR r.architecture = ?3) AND (?4 = '' OR r.optimizer = ?4) "
                            "ORDER BY r.id",
                            kRunColumns, from),
                read_run, filter.sweep, status, filter.architecture, filter.optimizer);
}

RunRow ResultsReader::run(int64_t id) const {
  std::lock_guard lock(mutex_);
  auto rows = select(*db_, path_, fmt::format("run {}", id),
                     fmt::format("SELECT {} FROM runs r JOIN sweeps s ON s.id = r.sweep_id "
                                 "WHERE r.id = ?1",
                                 kRunColumns),
                     read_run, id);
  if (rows.empty()) throw Error(fmt::format("no run with id {}", id));
  return std::move(rows.front());
}

std::optional<RunStatus> ResultsReader::run_status(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto names = select(
      *db_, path_, "the status of run " + key, "SELECT status FROM runs WHERE key = ?1",
      [](Columns c) { return c.text(); }, key);
  if (names.empty()) return std::nullopt;
  try {
    return run_status_from_string(names.front());
  } catch (const Error& e) {
    throw StoreError(fmt::format("run {} has an unknown status: {}", key, e.what()));
  }
}

int64_t ResultsReader::resolve_run(const std::string& run) const {
  if (run.empty()) throw Error("no run given; expected a run id, a run key or a key prefix");
  std::lock_guard lock(mutex_);
  const std::string what = "run " + run;
  auto exact = select(*db_, path_, what, "SELECT id FROM runs WHERE key = ?1", read_id, run);
  if (!exact.empty()) return exact.front();
  if (is_decimal(run)) {
    auto by_id = select(*db_, path_, what, "SELECT id FROM runs WHERE id = ?1", read_id,
                        static_cast<int64_t>(std::stoll(run)));
    if (!by_id.empty()) return by_id.front();
  }
  auto by_prefix = select(
      *db_, path_, what,
      "SELECT id, key FROM runs WHERE substr(key, 1, length(?1)) = ?1 ORDER BY id LIMIT 6",
      [](Columns c) {
        const int64_t id = c.integer();
        return std::pair(id, c.text());
      },
      run);
  if (by_prefix.size() == 1) return by_prefix.front().first;
  if (by_prefix.empty())
    throw Error(
        fmt::format("no run matches '{}'; give a run id, a run key or a unique key prefix "
                    "(see `lenetlab query runs`)",
                    run));
  std::string candidates;
  for (size_t i = 0; i < std::min<size_t>(by_prefix.size(), 5); ++i)
    candidates += (i ? ", " : "") + by_prefix[i].second;
  if (by_prefix.size() > 5) candidates += ", ...";
  throw Error(fmt::format("run key prefix '{}' is ambiguous: it matches {}", run, candidates));
}

std::vector<EpochRecord> ResultsReader::epochs(int64_t run_id) const {
  std::lock_guard lock(mutex_);
  return select(
      *db_, path_, fmt::format("the epochs of run {}", run_id),
      fmt::format("SELECT {} FROM epochs WHERE run_id = ?1 ORDER BY epoch", kEpochColumns),
      read_epoch, run_id);
}

std::vector<ClassMetrics> ResultsReader::class_metrics(int64_t run_id) const {
  std::lock_guard lock(mutex_);
  return select(*db_, path_, fmt::format("the class metrics of run {}", run_id),
                "SELECT label, precision, recall, f1, support FROM class_metrics "
                "WHERE run_id = ?1 ORDER BY label",
                read_class_metrics, run_id);
}

std::vector<ConfusionCell> ResultsReader::confusion(int64_t run_id) const {
  std::lock_guard lock(mutex_);
  return select(*db_, path_, fmt::format("the confusion matrix of run {}", run_id),
                "SELECT true_label, predicted_label, count FROM confusion WHERE run_id = ?1 "
                "ORDER BY true_label, predicted_label",
                read_confusion, run_id);
}

std::vector<VerificationRow> ResultsReader::verifications(std::optional<int64_t> run_id) const {
  std::lock_guard lock(mutex_);
  const std::string sql = fmt::format(
      "SELECT {} FROM verifications WHERE ?1 < 0 OR run_id = ?1 ORDER BY id", kVerificationColumns);
  return select(*db_, path_, "verifications", sql, read_verification,
                run_id ? *run_id : int64_t{-1});
}

std::vector<PublishedRow> ResultsReader::published_results(const std::string& sweep) const {
  std::lock_guard lock(mutex_);
  return select(*db_, path_, "published results",
                "SELECT s.name, p.architecture, p.test_accuracy, p.required_test_accuracy, "
                "p.source FROM published_results p JOIN sweeps s ON s.id = p.sweep_id "
                "WHERE ?1 = '' OR s.name = ?1 ORDER BY s.name, p.architecture",
                read_published, sweep);
}

std::vector<RungRow> ResultsReader::rungs(const std::string& sweep) const {
  std::lock_guard lock(mutex_);
  return select(*db_, path_, "search rungs",
                "SELECT g.run_id, r.key, r.name, g.bracket, g.rung, g.epochs, g.metric, "
                "g.metric_value, g.rank, g.candidates, g.promoted FROM search_rungs g JOIN runs r "
                "ON r.id = g.run_id JOIN sweeps s ON s.id = g.sweep_id WHERE s.name = ?1 "
                "ORDER BY g.bracket, g.rung, g.rank",
                read_rung, sweep);
}

std::vector<SelectionRow> ResultsReader::selections(const std::string& sweep) const {
  std::lock_guard lock(mutex_);
  return select(*db_, path_, "protocol selections",
                "SELECT p.group_name, p.run_id, r.key, r.name, p.metric, p.metric_value, "
                "p.tuning_runs, p.settings FROM protocol_selections p JOIN runs r ON r.id = "
                "p.run_id JOIN sweeps s ON s.id = p.sweep_id WHERE s.name = ?1 "
                "ORDER BY p.group_name",
                read_selection, sweep);
}

std::vector<BenchRunRow> ResultsReader::bench_runs() const {
  std::lock_guard lock(mutex_);
  return select(*db_, path_, "bench runs",
                fmt::format("SELECT {} FROM bench_runs ORDER BY id", kBenchRunColumns),
                read_bench_run);
}

std::vector<BenchResultRow> ResultsReader::bench_results(int64_t bench_run_id) const {
  std::lock_guard lock(mutex_);
  return select(*db_, path_, fmt::format("the results of bench run {}", bench_run_id),
                fmt::format("SELECT {} FROM bench_results WHERE bench_run_id = ?1 ORDER BY rowid",
                            kBenchResultColumns),
                read_bench_result, bench_run_id);
}

std::vector<BenchProfileRow> ResultsReader::bench_profile(int64_t bench_run_id) const {
  std::lock_guard lock(mutex_);
  return select(*db_, path_, fmt::format("the profile of bench run {}", bench_run_id),
                fmt::format("SELECT {} FROM bench_profile WHERE bench_run_id = ?1 "
                            "ORDER BY position",
                            kBenchProfileColumns),
                read_bench_profile, bench_run_id);
}

std::vector<SlurmJobRow> ResultsReader::slurm_jobs(const std::string& sweep) const {
  std::lock_guard lock(mutex_);
  return select(*db_, path_, "Slurm jobs",
                fmt::format("SELECT {} FROM slurm_jobs j JOIN sweeps s ON s.id = j.sweep_id "
                            "WHERE s.name = ?1 ORDER BY j.id",
                            kSlurmJobColumns),
                read_slurm_job, sweep);
}

}  // namespace lenetlab
