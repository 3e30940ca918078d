#include "store/store.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <system_error>
#include <type_traits>
#include <utility>

#include "core/error.hpp"
#include "store/schema_sql.hpp"

namespace lenetlab {

std::string utc_now(int ago_seconds) {
  const auto now = std::chrono::system_clock::now() - std::chrono::seconds(ago_seconds);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
}

namespace {
/// Schema 1 -> 2 (what schema.sql added): the verifications table and two runs columns.
constexpr const char* kMigrationV1ToV2 = R"sql(
ALTER TABLE runs ADD COLUMN owner TEXT;
ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
CREATE TABLE IF NOT EXISTS verifications (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  verified_at TEXT NOT NULL, matched INTEGER NOT NULL, epochs_compared INTEGER NOT NULL,
  mismatches INTEGER NOT NULL, details TEXT NOT NULL, threads INTEGER, isa TEXT,
  onednn_version TEXT, host TEXT, git_commit TEXT);
CREATE TABLE IF NOT EXISTS published_results (
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  architecture TEXT NOT NULL, test_accuracy REAL NOT NULL, required_test_accuracy REAL NOT NULL,
  source TEXT NOT NULL, PRIMARY KEY (sweep_id, architecture));
)sql";
}  // namespace

namespace {

constexpr int kBusyTimeoutMs = 10000;

/// First line of a SQL statement, whitespace-collapsed and cut to a readable length.
std::string abbreviate_sql(const std::string& sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() > 90) return out + " ...";
  }
  return out;
}

/// The statements of one Store operation. Remembers the SQL it is running so that a failure can
/// be reported with its context.
class Session {
 public:
  explicit Session(SQLite::Database& db) : db_(db) {}

  SQLite::Statement prepare(const char* sql) {
    sql_ = sql;
    return SQLite::Statement(db_, sql);
  }
  void exec(const std::string& sql) {
    sql_ = sql;
    db_.exec(sql);
  }
  /// Records `sql` as the statement in progress (for work done outside prepare/exec).
  void note(const char* sql) { sql_ = sql; }
  SQLite::Database& db() { return db_; }
  const std::string& sql() const { return sql_; }

 private:
  SQLite::Database& db_;
  std::string sql_;
};

template <typename T>
void bind_optional(SQLite::Statement& statement, const char* name, const std::optional<T>& value) {
  if (value)
    statement.bind(name, *value);
  else
    statement.bind(name);
}

std::string describe_failure(const std::filesystem::path& path, const char* operation,
                             const Session& session, const SQLite::Exception& e) {
  if (session.sql().empty())
    return fmt::format("results database {}: {} failed: {}", path.string(), operation, e.what());
  return fmt::format("results database {}: {} failed at `{}`: {}", path.string(), operation,
                     abbreviate_sql(session.sql()), e.what());
}

/// Runs body(Session&) inside one transaction on db, committed before returning. IMMEDIATE takes
/// the write lock up front so that two writers wait on the busy timeout instead of failing to
/// upgrade a read lock. Converts SQLite::Exception into StoreError.
template <typename Body>
auto in_transaction(SQLite::Database& db, const std::filesystem::path& path, const char* operation,
                    SQLite::TransactionBehavior behavior, Body&& body) {
  Session session(db);
  try {
    session.note(behavior == SQLite::TransactionBehavior::IMMEDIATE ? "BEGIN IMMEDIATE" : "BEGIN");
    SQLite::Transaction transaction(db, behavior);
    if constexpr (std::is_void_v<decltype(body(session))>) {
      body(session);
      session.note("COMMIT");
      transaction.commit();
    } else {
      auto result = body(session);
      session.note("COMMIT");
      transaction.commit();
      return result;
    }
  } catch (const SQLite::Exception& e) {
    throw StoreError(describe_failure(path, operation, session, e));
  }
}

void require_one_change(const SQLite::Statement& statement, const std::filesystem::path& path,
                        const char* operation, int64_t run_id) {
  if (statement.getChanges() != 1)
    throw StoreError(fmt::format("results database {}: {}: no run with id {}", path.string(),
                                 operation, run_id));
}

}  // namespace

Store::Store(const std::filesystem::path& path, bool read_only)
    : path_(path), read_only_(read_only) {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  owner_ = fmt::format("{}:{}", host, static_cast<long>(getpid()));
  const std::string name = path.string();
  std::error_code ec;
  if (read_only) {
    if (!std::filesystem::exists(path, ec))
      throw StoreError(
          fmt::format("no results database at {}; run `lenetlab run SWEEP` first", name));
  } else if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
      throw StoreError(fmt::format("cannot create the directory {} for the results database: {}",
                                   path.parent_path().string(), ec.message()));
  }

  try {
    const int flags =
        read_only ? SQLite::OPEN_READONLY : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db_ = std::make_unique<SQLite::Database>(name, flags);
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("cannot open results database {}: {}", name, e.what()));
  }
  // SQLite silently falls back to read-only when the file is not writable.
  if (!read_only && sqlite3_db_readonly(db_->getHandle(), "main") == 1)
    throw StoreError(fmt::format(
        "results database {} is read-only (no write permission); lenetlab needs to write to it",
        name));

  const std::string no_schema = fmt::format(
      "{} is a SQLite database but not a lenetlab results database (it has no lenetlab schema)",
      name);
  Session session(*db_);
  int version = 0;
  try {
    db_->setBusyTimeout(kBusyTimeoutMs);
    try {
      // The first statement that reads the file: a non-SQLite file fails here with SQLITE_NOTADB.
      SQLite::Statement query = session.prepare("PRAGMA user_version");
      query.executeStep();
      version = query.getColumn(0).getInt();
    } catch (const SQLite::Exception& e) {
      if ((e.getErrorCode() & 0xff) == SQLITE_NOTADB)
        throw StoreError(
            fmt::format("{} is not a lenetlab results database (SQLite): {}", name, e.what()));
      throw;
    }
    if (version > kSchemaVersion)
      throw StoreError(
          fmt::format("results database {}: database schema version {} is newer than this lenetlab "
                      "(supports {}); upgrade lenetlab",
                      name, version, kSchemaVersion));

    session.exec("PRAGMA foreign_keys = ON");
    if (read_only) {
      session.exec("PRAGMA query_only = 1");
      if (version == 0) throw StoreError(no_schema);
      return;
    }
    // WAL: readers (`lenetlab query`, the sqlite3 shell) never block the writer and vice versa.
    // NORMAL is durable against application crashes; a power loss may lose the last commits.
    session.exec("PRAGMA journal_mode = WAL");
    session.exec("PRAGMA synchronous = NORMAL");
  } catch (const SQLite::Exception& e) {
    throw StoreError(describe_failure(path, "opening", session, e));
  }
  if (version == 1) {  // 1 -> 2: verifications table, runs.owner, runs.heartbeat_at
    in_transaction(*db_, path_, "upgrading the schema to version 2",
                   SQLite::TransactionBehavior::IMMEDIATE, [&](Session& s) {
                     SQLite::Statement current = s.prepare("PRAGMA user_version");
                     current.executeStep();
                     if (current.getColumn(0).getInt() != 1) return;
                     s.exec(kMigrationV1ToV2);
                     s.exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
                   });
    return;
  }
  if (version == kSchemaVersion) {
    // Tables added within this version by an earlier build (all statements are IF NOT EXISTS).
    in_transaction(*db_, path_, "checking the schema", SQLite::TransactionBehavior::IMMEDIATE,
                   [&](Session& s) { s.exec(detail::kSchemaSql); });
    return;
  }
  if (version != 0) return;

  // A new (or empty) file: create the schema. The version is read again inside the write
  // transaction in case another process created the schema meanwhile.
  in_transaction(*db_, path_, "creating the schema", SQLite::TransactionBehavior::IMMEDIATE,
                 [&](Session& s) {
                   SQLite::Statement current = s.prepare("PRAGMA user_version");
                   current.executeStep();
                   if (current.getColumn(0).getInt() != 0) return;
                   SQLite::Statement objects = s.prepare("SELECT count(*) FROM sqlite_master");
                   objects.executeStep();
                   if (objects.getColumn(0).getInt64() != 0) throw StoreError(no_schema);
                   s.exec(detail::kSchemaSql);
                   s.exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
                 });
}

Store::~Store() = default;

SQLite::Database& Store::database() { return *db_; }

int64_t Store::upsert_sweep(const std::string& name, const std::string& file,
                            const std::string& yaml) {
  std::lock_guard lock(mutex_);
  return in_transaction(
      *db_, path_, "upsert_sweep", SQLite::TransactionBehavior::IMMEDIATE, [&](Session& s) {
        SQLite::Statement upsert = s.prepare(
            "INSERT INTO sweeps (name, file, yaml, created_at, updated_at) "
            "VALUES (:name, :file, :yaml, :now, :now) "
            "ON CONFLICT (name) DO UPDATE SET file = excluded.file, yaml = excluded.yaml, "
            "updated_at = excluded.updated_at");
        upsert.bind(":name", name);
        upsert.bind(":file", file);
        upsert.bind(":yaml", yaml);
        upsert.bind(":now", utc_now());
        upsert.exec();
        SQLite::Statement select = s.prepare("SELECT id FROM sweeps WHERE name = :name");
        select.bind(":name", name);
        select.executeStep();
        return select.getColumn(0).getInt64();
      });
}

std::optional<RunStatus> Store::run_status(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto status = in_transaction(
      *db_, path_, "run_status", SQLite::TransactionBehavior::DEFERRED,
      [&](Session& s) -> std::optional<std::string> {
        SQLite::Statement select = s.prepare("SELECT status FROM runs WHERE key = :key");
        select.bind(":key", key);
        if (!select.executeStep()) return std::nullopt;
        return select.getColumn(0).getString();
      });
  if (!status) return std::nullopt;
  return run_status_from_string(*status);
}

int64_t Store::prepare_run(int64_t sweep_id, const RunConfig& config, int keep_epochs,
                           bool reset_final) {
  const std::string key = config.key();
  const std::string config_json = config.to_json().dump();
  const std::string display_name = config.display_name();
  std::lock_guard lock(mutex_);
  return in_transaction(
      *db_, path_, "prepare_run", SQLite::TransactionBehavior::IMMEDIATE, [&](Session& s) {
        // Binds the configuration columns shared by the INSERT and the reset UPDATE.
        auto bind_config = [&](SQLite::Statement& statement) {
          statement.bind(":sweep_id", sweep_id);
          statement.bind(":name", display_name);
          statement.bind(":architecture", config.architecture);
          statement.bind(":optimizer", to_string(config.optimizer.kind));
          statement.bind(":learning_rate", config.optimizer.learning_rate);
          statement.bind(":batch_size", config.batch_size);
          statement.bind(":epochs", config.epochs);
          statement.bind(":seed", static_cast<int64_t>(config.seed));
          statement.bind(":dataset", config.dataset);
          statement.bind(":config_json", config_json);
        };

        SQLite::Statement select = s.prepare("SELECT id, status FROM runs WHERE key = :key");
        select.bind(":key", key);
        if (!select.executeStep()) {
          SQLite::Statement insert = s.prepare(
              "INSERT INTO runs (key, sweep_id, name, architecture, optimizer, learning_rate, "
              "batch_size, epochs, seed, dataset, config_json, status) "
              "VALUES (:key, :sweep_id, :name, :architecture, :optimizer, :learning_rate, "
              ":batch_size, :epochs, :seed, :dataset, :config_json, 'queued')");
          insert.bind(":key", key);
          bind_config(insert);
          insert.exec();
          return s.db().getLastInsertRowid();
        }
        const int64_t id = select.getColumn(0).getInt64();
        const RunStatus status = run_status_from_string(select.getColumn(1).getString());

        if (status == RunStatus::running && owned_elsewhere(s.db(), id))
          return id;  // leave it alone
        if (is_final(status) && !reset_final) {
          // Keep the results; the run now belongs to the sweep that asked for it last.
          SQLite::Statement update =
              s.prepare("UPDATE runs SET sweep_id = :sweep_id WHERE id = :id");
          update.bind(":sweep_id", sweep_id);
          update.bind(":id", id);
          update.exec();
          return id;
        }

        {
          SQLite::Statement remove =
              s.prepare("DELETE FROM epochs WHERE run_id = :id AND epoch > :keep");
          remove.bind(":id", id);
          remove.bind(":keep", keep_epochs);
          remove.exec();
        }
        for (const char* sql : {"DELETE FROM class_metrics WHERE run_id = :id",
                                "DELETE FROM confusion WHERE run_id = :id"}) {
          SQLite::Statement remove = s.prepare(sql);
          remove.bind(":id", id);
          remove.exec();
        }
        SQLite::Statement reset = s.prepare(
            "UPDATE runs SET sweep_id = :sweep_id, name = :name, architecture = :architecture, "
            "optimizer = :optimizer, learning_rate = :learning_rate, batch_size = :batch_size, "
            "epochs = :epochs, seed = :seed, dataset = :dataset, config_json = :config_json, "
            "status = 'queued', error = NULL, diverged_epoch = NULL, parameters = NULL, "
            "trainable_parameters = NULL, macs_per_image = NULL, threads = NULL, host = NULL, "
            "cpu_model = NULL, isa = NULL, onednn_version = NULL, tbb_version = NULL, "
            "compiler = NULL, build_type = NULL, git_commit = NULL, dataset_sha256 = NULL, "
            "started_at = NULL, finished_at = NULL, seconds = NULL, "
            "epochs_completed = (SELECT COUNT(*) FROM epochs WHERE run_id = :id), "
            "best_epoch = NULL, best_val_accuracy = NULL, test_loss = NULL, test_accuracy = NULL, "
            "test_images = NULL, weights_hash = NULL "
            "WHERE id = :id");
        bind_config(reset);
        reset.bind(":id", id);
        reset.exec();
        return id;
      });
}

bool Store::owned_elsewhere(SQLite::Database& db, int64_t run_id) const {
  SQLite::Statement q(db, "SELECT owner, heartbeat_at FROM runs WHERE id = :id");
  q.bind(":id", run_id);
  if (!q.executeStep() || q.getColumn(0).isNull()) return false;
  const std::string owner = q.getColumn(0).getString();
  if (owner == owner_) return false;
  // Same host: the owner's process can be asked directly (a SIGKILLed process is gone at once).
  const auto colon = owner.rfind(':');
  if (colon != std::string::npos && owner.substr(0, colon) == owner_.substr(0, owner_.rfind(':'))) {
    const long pid = std::strtol(owner.c_str() + colon + 1, nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  }
  // Otherwise (or a live pid on this host): alive while its heartbeat is fresh.
  return !q.getColumn(1).isNull() && q.getColumn(1).getString() >= utc_now(kStaleSeconds);
}

bool Store::claim_run(int64_t run_id) {
  std::lock_guard lock(mutex_);
  return in_transaction(
      *db_, path_, "claim_run", SQLite::TransactionBehavior::IMMEDIATE, [&](Session& s) {
        SQLite::Statement status = s.prepare("SELECT status FROM runs WHERE id = :id");
        status.bind(":id", run_id);
        if (!status.executeStep()) return false;
        const std::string current = status.getColumn(0).getString();
        if (current != "queued" && !(current == "running" && !owned_elsewhere(s.db(), run_id)))
          return false;
        SQLite::Statement claim = s.prepare(
            "UPDATE runs SET status = 'running', owner = :owner, heartbeat_at = :now WHERE id = "
            ":id");
        claim.bind(":owner", owner_);
        claim.bind(":now", utc_now());
        claim.bind(":id", run_id);
        return claim.exec() == 1;
      });
}

void Store::heartbeat() {
  std::lock_guard lock(mutex_);
  in_transaction(*db_, path_, "heartbeat", SQLite::TransactionBehavior::IMMEDIATE, [&](Session& s) {
    SQLite::Statement beat = s.prepare(
        "UPDATE runs SET heartbeat_at = :now WHERE owner = :owner AND status = 'running'");
    beat.bind(":now", utc_now());
    beat.bind(":owner", owner_);
    beat.exec();
  });
}

void Store::set_published_results(int64_t sweep_id, const std::vector<PublishedResult>& results) {
  std::lock_guard lock(mutex_);
  in_transaction(
      *db_, path_, "set_published_results", SQLite::TransactionBehavior::IMMEDIATE,
      [&](Session& s) {
        SQLite::Statement clear = s.prepare("DELETE FROM published_results WHERE sweep_id = ?");
        clear.bind(1, sweep_id);
        clear.exec();
        for (const PublishedResult& p : results) {
          SQLite::Statement insert = s.prepare(
              "INSERT OR REPLACE INTO published_results (sweep_id, architecture, test_accuracy, "
              "required_test_accuracy, source) VALUES (?, ?, ?, ?, ?)");
          insert.bind(1, sweep_id);
          insert.bind(2, p.architecture);
          insert.bind(3, p.test_accuracy);
          insert.bind(4, p.required_test_accuracy);
          insert.bind(5, p.source);
          insert.exec();
        }
      });
}

void Store::record_verification(int64_t run_id, bool matched, int epochs_compared, int mismatches,
                                const std::string& details_json, const Environment& env) {
  std::lock_guard lock(mutex_);
  in_transaction(*db_, path_, "record_verification", SQLite::TransactionBehavior::IMMEDIATE,
                 [&](Session& s) {
                   SQLite::Statement insert = s.prepare(
                       "INSERT INTO verifications (run_id, verified_at, matched, epochs_compared, "
                       "mismatches, details, threads, isa, onednn_version, host, git_commit) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
                   insert.bind(1, run_id);
                   insert.bind(2, utc_now());
                   insert.bind(3, matched ? 1 : 0);
                   insert.bind(4, epochs_compared);
                   insert.bind(5, mismatches);
                   insert.bind(6, details_json);
                   insert.bind(7, env.threads);
                   insert.bind(8, env.isa);
                   insert.bind(9, env.onednn_version);
                   insert.bind(10, env.host);
                   insert.bind(11, env.git_commit);
                   insert.exec();
                 });
}

void Store::start_run(int64_t run_id, const Environment& env, const ModelStats& stats,
                      const std::string& dataset_sha256) {
  std::lock_guard lock(mutex_);
  in_transaction(*db_, path_, "start_run", SQLite::TransactionBehavior::IMMEDIATE, [&](Session& s) {
    SQLite::Statement update = s.prepare(
        "UPDATE runs SET status = 'running', started_at = :now, finished_at = NULL, "
        "parameters = :parameters, trainable_parameters = :trainable_parameters, "
        "macs_per_image = :macs_per_image, threads = :threads, host = :host, "
        "cpu_model = :cpu_model, isa = :isa, onednn_version = :onednn_version, "
        "tbb_version = :tbb_version, compiler = :compiler, build_type = :build_type, "
        "git_commit = :git_commit, dataset_sha256 = :dataset_sha256 "
        "WHERE id = :id");
    update.bind(":now", utc_now());
    update.bind(":parameters", stats.parameters);
    update.bind(":trainable_parameters", stats.trainable_parameters);
    update.bind(":macs_per_image", stats.macs_per_image);
    update.bind(":threads", env.threads);
    update.bind(":host", env.host);
    update.bind(":cpu_model", env.cpu_model);
    update.bind(":isa", env.isa);
    update.bind(":onednn_version", env.onednn_version);
    update.bind(":tbb_version", env.tbb_version);
    update.bind(":compiler", env.compiler);
    update.bind(":build_type", env.build_type);
    update.bind(":git_commit", env.git_commit);
    update.bind(":dataset_sha256", dataset_sha256);
    update.bind(":id", run_id);
    update.exec();
    require_one_change(update, path_, "start_run", run_id);
  });
}

void Store::record_epoch(int64_t run_id, const EpochRecord& epoch) {
  std::lock_guard lock(mutex_);
  in_transaction(
      *db_, path_, "record_epoch", SQLite::TransactionBehavior::IMMEDIATE, [&](Session& s) {
        SQLite::Statement update = s.prepare(
            "UPDATE runs SET epochs_completed = max(epochs_completed, :epoch) WHERE id = :id");
        update.bind(":epoch", epoch.epoch);
        update.bind(":id", run_id);
        update.exec();
        require_one_change(update, path_, "record_epoch", run_id);

        SQLite::Statement insert = s.prepare(
            "INSERT INTO epochs (run_id, epoch, train_loss, train_accuracy, val_loss, "
            "val_accuracy, learning_rate, seconds, images_per_second, recorded_at) "
            "VALUES (:id, :epoch, :train_loss, :train_accuracy, :val_loss, :val_accuracy, "
            ":learning_rate, :seconds, :images_per_second, :now) "
            "ON CONFLICT (run_id, epoch) DO NOTHING");
        // The row's identity and the metrics a rerun must reproduce exactly.
        auto bind_metrics = [&](SQLite::Statement& statement) {
          statement.bind(":id", run_id);
          statement.bind(":epoch", epoch.epoch);
          statement.bind(":train_loss", epoch.train_loss);
          statement.bind(":train_accuracy", epoch.train_accuracy);
          bind_optional(statement, ":val_loss", epoch.val_loss);
          bind_optional(statement, ":val_accuracy", epoch.val_accuracy);
        };
        bind_metrics(insert);
        insert.bind(":learning_rate", epoch.learning_rate);
        insert.bind(":seconds", epoch.seconds);
        insert.bind(":images_per_second", epoch.images_per_second);
        insert.bind(":now", utc_now());
        if (insert.exec() == 1) return;
        // The row exists: a resumed run delivers again the epoch its checkpoint holds. The same
        // metrics, bit for bit, are a no-op; different ones mean the run is not reproducible.
        SQLite::Statement same = s.prepare(
            "SELECT train_loss IS :train_loss AND train_accuracy IS :train_accuracy AND "
            "val_loss IS :val_loss AND val_accuracy IS :val_accuracy FROM epochs "
            "WHERE run_id = :id AND epoch = :epoch");
        bind_metrics(same);
        if (!same.executeStep() || same.getColumn(0).getInt() != 1)
          throw StoreError(fmt::format(
              "results database {}: record_epoch: epoch {} of run {} is already recorded with "
              "different metrics (the run did not reproduce its own result)",
              path_.string(), epoch.epoch, run_id));
      });
}

void Store::finish_run(int64_t run_id, const RunResult& result) {
  if (result.test) {
    const EvalMetrics& test = *result.test;
    const auto cells =
        static_cast<size_t>(test.num_classes) * static_cast<size_t>(test.num_classes);
    if (test.num_classes <= 0 || test.confusion.size() != cells)
      throw StoreError(fmt::format(
          "results database {}: finish_run: run {} has a confusion matrix of {} cells; expected "
          "num_classes^2 = {}",
          path_.string(), run_id, test.confusion.size(), cells));
  }
  std::lock_guard lock(mutex_);
  in_transaction(
      *db_, path_, "finish_run", SQLite::TransactionBehavior::IMMEDIATE, [&](Session& s) {
        SQLite::Statement update = s.prepare(
            "UPDATE runs SET status = :status, error = :error, diverged_epoch = :diverged_epoch, "
            "epochs_completed = :epochs_completed, best_epoch = :best_epoch, "
            "best_val_accuracy = :best_val_accuracy, test_loss = :test_loss, "
            "test_accuracy = :test_accuracy, test_images = :test_images, seconds = :seconds, "
            "weights_hash = :weights_hash, finished_at = :now "
            "WHERE id = :id");
        update.bind(":status", to_string(result.status));
        if (result.error.empty())
          update.bind(":error");
        else
          update.bind(":error", result.error);
        bind_optional(update, ":diverged_epoch", result.diverged_epoch);
        update.bind(":epochs_completed", result.epochs_completed);
        bind_optional(update, ":best_epoch", result.best_epoch);
        bind_optional(update, ":best_val_accuracy", result.best_val_accuracy);
        if (result.test) {
          update.bind(":test_loss", result.test->loss);
          update.bind(":test_accuracy", result.test->accuracy);
          update.bind(":test_images", result.test->images);
        } else {
          update.bind(":test_loss");
          update.bind(":test_accuracy");
          update.bind(":test_images");
        }
        update.bind(":seconds", result.seconds);
        if (result.weights_hash.empty())
          update.bind(":weights_hash");
        else
          update.bind(":weights_hash", result.weights_hash);
        update.bind(":now", utc_now());
        update.bind(":id", run_id);
        update.exec();
        require_one_change(update, path_, "finish_run", run_id);

        for (const char* sql : {"DELETE FROM class_metrics WHERE run_id = :id",
                                "DELETE FROM confusion WHERE run_id = :id"}) {
          SQLite::Statement remove = s.prepare(sql);
          remove.bind(":id", run_id);
          remove.exec();
        }
        if (!result.test) return;
        const EvalMetrics& test = *result.test;

        SQLite::Statement metrics = s.prepare(
            "INSERT INTO class_metrics (run_id, label, precision, recall, f1, support) "
            "VALUES (:id, :label, :precision, :recall, :f1, :support)");
        for (const ClassMetrics& m : test.per_class) {
          metrics.reset();
          metrics.bind(":id", run_id);
          metrics.bind(":label", m.label);
          metrics.bind(":precision", m.precision);
          metrics.bind(":recall", m.recall);
          metrics.bind(":f1", m.f1);
          metrics.bind(":support", m.support);
          metrics.exec();
        }

        SQLite::Statement confusion = s.prepare(
            "INSERT INTO confusion (run_id, true_label, predicted_label, count) "
            "VALUES (:id, :true_label, :predicted_label, :count)");
        for (int t = 0; t < test.num_classes; ++t) {
          for (int p = 0; p < test.num_classes; ++p) {
            confusion.reset();
            confusion.bind(":id", run_id);
            confusion.bind(":true_label", t);
            confusion.bind(":predicted_label", p);
            confusion.bind(":count", test.confusion[static_cast<size_t>(t) * test.num_classes + p]);
            confusion.exec();
          }
        }
      });
}

void Store::mark_interrupted(int64_t run_id, const std::string& why) {
  std::lock_guard lock(mutex_);
  in_transaction(*db_, path_, "mark_interrupted", SQLite::TransactionBehavior::IMMEDIATE,
                 [&](Session& s) {
                   SQLite::Statement update = s.prepare(
                       "UPDATE runs SET status = 'interrupted', error = :why, finished_at = :now "
                       "WHERE id = :id AND status IN ('queued', 'running')");
                   update.bind(":why", why);
                   update.bind(":now", utc_now());
                   update.bind(":id", run_id);
                   update.exec();
                 });
}

}  // namespace lenetlab
