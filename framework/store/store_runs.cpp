// Store: the lifecycle of a run: registered (prepare_run), started, each epoch, and its end (status,
// test metrics, class metrics, confusion cells).
#include <fmt/format.h>

#include "core/error.hpp"
#include "core/text.hpp"
#include "store/database.hpp"
#include "store/store.hpp"

namespace lenetlab {

using detail::bind_optional;
using detail::bind_text_or_null;
using detail::Session;

namespace {

/// Binds the configuration columns of a run, shared by prepare_run's INSERT and reset_run's UPDATE.
void bind_config(SQLite::Statement& statement, int64_t sweep_id, const RunConfig& config) {
  statement.bind(":sweep_id", sweep_id);
  statement.bind(":name", config.display_name());
  statement.bind(":architecture", config.architecture);
  statement.bind(":optimizer", to_string(config.optimizer.kind));
  statement.bind(":learning_rate", config.optimizer.learning_rate);
  statement.bind(":batch_size", config.batch_size);
  statement.bind(":epochs", config.epochs);
  statement.bind(":seed", static_cast<int64_t>(config.seed));
  statement.bind(":dataset", config.dataset);
  statement.bind(":config_json", config.to_json().dump());
}

/// Deletes a run's test metrics (class_metrics, confusion).
void delete_test_metrics(Session& s, int64_t run_id) {
  for (const char* sql : {"DELETE FROM class_metrics WHERE run_id = :id",
                          "DELETE FROM confusion WHERE run_id = :id"}) {
    SQLite::Statement remove = s.prepare(sql);
    remove.bind(":id", run_id);
    remove.exec();
  }
}

void require_one_change(const SQLite::Statement& statement, const std::filesystem::path& path,
                        const char* operation, int64_t run_id) {
  if (statement.getChanges() != 1)
    throw StoreError(fmt::format("results database {}: {}: no run with id {}", path.string(),
                                 operation, run_id));
}

/// The runs columns finish_run sets: status, error, results, finished_at = now.
void update_run_result(Session& s, const std::filesystem::path& path, int64_t run_id,
                       const RunResult& result) {
  SQLite::Statement update = s.prepare(
      "UPDATE runs SET status = :status, error = :error, diverged_epoch = :diverged_epoch, "
      "epochs_completed = :epochs_completed, best_epoch = :best_epoch, "
      "best_val_accuracy = :best_val_accuracy, test_loss = :test_loss, "
      "test_accuracy = :test_accuracy, test_images = :test_images, seconds = :seconds, "
      "weights_hash = :weights_hash, finished_at = :now "
      "WHERE id = :id");
  update.bind(":status", to_string(result.status));
  bind_text_or_null(update, ":error", result.error);
  bind_optional(update, ":diverged_epoch", result.diverged_epoch);
  update.bind(":epochs_completed", result.epochs_completed);
  bind_optional(update, ":best_epoch", result.best_epoch);
  bind_optional(update, ":best_val_accuracy", result.best_val_accuracy);
  const EvalMetrics* test = result.test ? &*result.test : nullptr;
  bind_optional(update, ":test_loss", test ? std::optional(test->loss) : std::nullopt);
  bind_optional(update, ":test_accuracy", test ? std::optional(test->accuracy) : std::nullopt);
  bind_optional(update, ":test_images", test ? std::optional(test->images) : std::nullopt);
  update.bind(":seconds", result.seconds);
  bind_text_or_null(update, ":weights_hash", result.weights_hash);
  update.bind(":now", iso_utc_now());
  update.bind(":id", run_id);
  update.exec();
  require_one_change(update, path, "finish_run", run_id);
}

/// Inserts the class_metrics rows and every confusion cell of a test evaluation.
void insert_test_metrics(Session& s, int64_t run_id, const EvalMetrics& test) {
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
}

/// Records that sweep `sweep_id` holds run `run_id` (table sweep_runs; kept if already there).
void add_member(Session& s, int64_t sweep_id, int64_t run_id) {
  SQLite::Statement insert =
      s.prepare("INSERT OR IGNORE INTO sweep_runs (sweep_id, run_id) VALUES (:sweep_id, :run_id)");
  insert.bind(":sweep_id", sweep_id);
  insert.bind(":run_id", run_id);
  insert.exec();
}

}  // namespace

void Store::add_to_sweep(int64_t sweep_id, const std::string& key) {
  write("add_to_sweep", [&](Session& s) {
    SQLite::Statement insert = s.prepare(
        "INSERT OR IGNORE INTO sweep_runs (sweep_id, run_id) SELECT :sweep_id, id FROM runs "
        "WHERE key = :key");
    insert.bind(":sweep_id", sweep_id);
    insert.bind(":key", key);
    insert.exec();
  });
}

int64_t Store::prepare_run(int64_t sweep_id, const RunConfig& config, int keep_epochs,
                           bool reset_final) {
  const std::string key = config.key();
  int64_t id = 0;
  write("prepare_run", [&](Session& s) {
    SQLite::Statement select = s.prepare("SELECT id, status FROM runs WHERE key = :key");
    select.bind(":key", key);
    if (!select.executeStep()) {
      SQLite::Statement insert = s.prepare(
          "INSERT INTO runs (key, sweep_id, name, architecture, optimizer, learning_rate, "
          "batch_size, epochs, seed, dataset, config_json, status) "
          "VALUES (:key, :sweep_id, :name, :architecture, :optimizer, :learning_rate, "
          ":batch_size, :epochs, :seed, :dataset, :config_json, 'queued')");
      insert.bind(":key", key);
      bind_config(insert, sweep_id, config);
      insert.exec();
      id = s.db().getLastInsertRowid();
      add_member(s, sweep_id, id);
      return;
    }
    id = select.getColumn(0).getInt64();
    const RunStatus status = run_status_from_string(select.getColumn(1).getString());
    add_member(s, sweep_id, id);

    if (status == RunStatus::running && owned_elsewhere(s, id)) return;  // leave it alone
    if (is_final(status) && !reset_final) {
      // Keep the results; the run now belongs to the sweep that asked for it last.
      SQLite::Statement update = s.prepare("UPDATE runs SET sweep_id = :sweep_id WHERE id = :id");
      update.bind(":sweep_id", sweep_id);
      update.bind(":id", id);
      update.exec();
      return;
    }
    reset_run(s, id, sweep_id, config, keep_epochs);
  });
  return id;
}

void Store::reset_run(Session& s, int64_t run_id, int64_t sweep_id, const RunConfig& config,
                      int keep_epochs) {
  SQLite::Statement remove = s.prepare("DELETE FROM epochs WHERE run_id = :id AND epoch > :keep");
  remove.bind(":id", run_id);
  remove.bind(":keep", keep_epochs);
  remove.exec();
  delete_test_metrics(s, run_id);
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
  bind_config(reset, sweep_id, config);
  reset.bind(":id", run_id);
  reset.exec();
}

void Store::start_run(int64_t run_id, const Environment& env, const ModelStats& stats,
                      const std::string& dataset_sha256) {
  write("start_run", [&](Session& s) {
    SQLite::Statement update = s.prepare(
        "UPDATE runs SET status = 'running', started_at = :now, finished_at = NULL, "
        "parameters = :parameters, trainable_parameters = :trainable_parameters, "
        "macs_per_image = :macs_per_image, threads = :threads, host = :host, "
        "cpu_model = :cpu_model, isa = :isa, onednn_version = :onednn_version, "
        "tbb_version = :tbb_version, compiler = :compiler, build_type = :build_type, "
        "git_commit = :git_commit, dataset_sha256 = :dataset_sha256 "
        "WHERE id = :id");
    update.bind(":now", iso_utc_now());
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

void Store::discard_epochs_after(int64_t run_id, int epoch) {
  write("discard_epochs_after", [&](Session& s) {
    SQLite::Statement remove =
        s.prepare("DELETE FROM epochs WHERE run_id = :id AND epoch > :epoch");
    remove.bind(":id", run_id);
    remove.bind(":epoch", epoch);
    remove.exec();
    SQLite::Statement update = s.prepare(
        "UPDATE runs SET epochs_completed = "
        "(SELECT COALESCE(MAX(epoch), 0) FROM epochs WHERE run_id = :id) WHERE id = :id");
    update.bind(":id", run_id);
    update.exec();
    require_one_change(update, path_, "discard_epochs_after", run_id);
  });
}

void Store::record_epoch(int64_t run_id, const EpochRecord& epoch) {
  write("record_epoch", [&](Session& s) {
    SQLite::Statement update = s.prepare(
        "UPDATE runs SET epochs_completed = max(epochs_completed, :epoch) WHERE id = :id");
    update.bind(":epoch", epoch.epoch);
    update.bind(":id", run_id);
    update.exec();
    require_one_change(update, path_, "record_epoch", run_id);

    SQLite::Statement insert = s.prepare(
        "INSERT INTO epochs (run_id, epoch, train_loss, train_accuracy, val_loss, "
        "val_accuracy, learning_rate, seconds, images_per_second, recorded_at, data_hash) "
        "VALUES (:id, :epoch, :train_loss, :train_accuracy, :val_loss, :val_accuracy, "
        ":learning_rate, :seconds, :images_per_second, :now, :data_hash) "
        "ON CONFLICT (run_id, epoch) DO NOTHING");
    // The row's identity and the metrics a rerun must reproduce exactly.
    auto bind_metrics = [&](SQLite::Statement& statement) {
      statement.bind(":id", run_id);
      statement.bind(":epoch", epoch.epoch);
      statement.bind(":train_loss", epoch.train_loss);
      statement.bind(":train_accuracy", epoch.train_accuracy);
      bind_optional(statement, ":val_loss", epoch.val_loss);
      bind_optional(statement, ":val_accuracy", epoch.val_accuracy);
      if (epoch.data_hash.empty())
        statement.bind(":data_hash");  // not known: NULL
      else
        statement.bind(":data_hash", epoch.data_hash);
    };
    bind_metrics(insert);
    insert.bind(":learning_rate", epoch.learning_rate);
    insert.bind(":seconds", epoch.seconds);
    insert.bind(":images_per_second", epoch.images_per_second);
    insert.bind(":now", iso_utc_now());
    if (insert.exec() == 1) return;
    // The row exists: a resumed run delivers again the epoch its checkpoint holds. The same
    // metrics and data, bit for bit, are a no-op; different ones mean the run is not
    // reproducible. A data hash not known on either side (NULL) is not compared.
    SQLite::Statement same = s.prepare(
        "SELECT train_loss IS :train_loss AND train_accuracy IS :train_accuracy AND "
        "val_loss IS :val_loss AND val_accuracy IS :val_accuracy AND "
        "(data_hash IS NULL OR :data_hash IS NULL OR data_hash = :data_hash) FROM epochs "
        "WHERE run_id = :id AND epoch = :epoch");
    bind_metrics(same);
    if (!same.executeStep() || same.getColumn(0).getInt() != 1)
      throw StoreError(fmt::format(
          "results database {}: record_epoch: epoch {} of run {} is already recorded with "
          "different metrics or data (the run did not reproduce its own result)",
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
  write("finish_run", [&](Session& s) {
    update_run_result(s, path_, run_id, result);
    delete_test_metrics(s, run_id);
    if (result.test) insert_test_metrics(s, run_id, *result.test);
  });
}

}  // namespace lenetlab
