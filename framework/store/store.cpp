// Store: opening, sweeps, run ownership (claim, heartbeat, interruption), published results,
// verifications. A run's lifecycle (prepare, start, epochs, finish) is in store_runs.cpp, the bench
// tables in store_bench.cpp.
#include "store/store.hpp"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>

#include "core/error.hpp"
#include "core/text.hpp"
#include "store/database.hpp"

namespace lenetlab {

using detail::Session;

Store::Store(const std::filesystem::path& path, std::chrono::milliseconds busy_timeout)
    : path_(path), db_(detail::open_database(path, detail::OpenMode::write, busy_timeout)) {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  owner_ = fmt::format("{}:{}", host, static_cast<long>(getpid()));
}

Store::~Store() = default;

void Store::write(const char* operation, const std::function<void(Session&)>& body) {
  std::lock_guard lock(mutex_);
  detail::in_transaction(*db_, path_, operation, SQLite::TransactionBehavior::IMMEDIATE, body);
}

int64_t Store::upsert_sweep(const std::string& name, const std::string& file,
                            const std::string& yaml) {
  int64_t id = 0;
  write("upsert_sweep", [&](Session& s) {
    SQLite::Statement upsert = s.prepare(
        "INSERT INTO sweeps (name, file, yaml, created_at, updated_at) "
        "VALUES (:name, :file, :yaml, :now, :now) "
        "ON CONFLICT (name) DO UPDATE SET file = excluded.file, yaml = excluded.yaml, "
        "updated_at = excluded.updated_at");
    upsert.bind(":name", name);
    upsert.bind(":file", file);
    upsert.bind(":yaml", yaml);
    upsert.bind(":now", iso_utc_now());
    upsert.exec();
    SQLite::Statement select = s.prepare("SELECT id FROM sweeps WHERE name = :name");
    select.bind(":name", name);
    select.executeStep();
    id = select.getColumn(0).getInt64();
  });
  return id;
}

std::optional<RunStatus> Store::run_status(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto status = detail::in_transaction(
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

bool Store::owned_elsewhere(Session& s, int64_t run_id) const {
  SQLite::Statement q = s.prepare("SELECT owner, heartbeat_at FROM runs WHERE id = :id");
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
  return !q.getColumn(1).isNull() && q.getColumn(1).getString() >= iso_utc_now(kStaleSeconds);
}

bool Store::claim_run(int64_t run_id) {
  bool claimed = false;
  write("claim_run", [&](Session& s) {
    SQLite::Statement status = s.prepare("SELECT status FROM runs WHERE id = :id");
    status.bind(":id", run_id);
    if (!status.executeStep()) return;
    const std::string current = status.getColumn(0).getString();
    if (current != "queued" && !(current == "running" && !owned_elsewhere(s, run_id))) return;
    SQLite::Statement claim = s.prepare(
        "UPDATE runs SET status = 'running', owner = :owner, heartbeat_at = :now WHERE id = :id");
    claim.bind(":owner", owner_);
    claim.bind(":now", iso_utc_now());
    claim.bind(":id", run_id);
    claimed = claim.exec() == 1;
  });
  return claimed;
}

void Store::heartbeat() {
  write("heartbeat", [&](Session& s) {
    SQLite::Statement beat = s.prepare(
        "UPDATE runs SET heartbeat_at = :now WHERE owner = :owner AND status = 'running'");
    beat.bind(":now", iso_utc_now());
    beat.bind(":owner", owner_);
    beat.exec();
  });
}

void Store::set_published_results(int64_t sweep_id, const std::vector<PublishedResult>& results) {
  write("set_published_results", [&](Session& s) {
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

void Store::record_rung(int64_t sweep_id, int rung, const std::vector<RungRow>& rows, int bracket) {
  write("record_rung", [&](Session& s) {
    SQLite::Statement clear =
        s.prepare("DELETE FROM search_rungs WHERE sweep_id = ? AND bracket = ? AND rung = ?");
    clear.bind(1, sweep_id);
    clear.bind(2, bracket);
    clear.bind(3, rung);
    clear.exec();
    for (const RungRow& r : rows) {
      SQLite::Statement insert = s.prepare(
          "INSERT INTO search_rungs (sweep_id, run_id, bracket, rung, epochs, metric, "
          "metric_value, rank, candidates, promoted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      insert.bind(1, sweep_id);
      insert.bind(2, r.run_id);
      insert.bind(3, bracket);
      insert.bind(4, rung);
      insert.bind(5, r.epochs);
      insert.bind(6, r.metric);
      if (r.metric_value) insert.bind(7, *r.metric_value);
      insert.bind(8, r.rank);
      insert.bind(9, r.candidates);
      insert.bind(10, r.promoted ? 1 : 0);
      insert.exec();
    }
  });
}

void Store::record_selection(int64_t sweep_id, const std::vector<SelectionRow>& rows) {
  write("record_selection", [&](Session& s) {
    SQLite::Statement clear = s.prepare("DELETE FROM protocol_selections WHERE sweep_id = ?");
    clear.bind(1, sweep_id);
    clear.exec();
    for (const SelectionRow& r : rows) {
      SQLite::Statement insert = s.prepare(
          "INSERT INTO protocol_selections (sweep_id, group_name, run_id, metric, metric_value, "
          "tuning_runs, settings) VALUES (?, ?, ?, ?, ?, ?, ?)");
      insert.bind(1, sweep_id);
      insert.bind(2, r.group);
      insert.bind(3, r.run_id);
      insert.bind(4, r.metric);
      insert.bind(5, r.metric_value);
      insert.bind(6, r.tuning_runs);
      insert.bind(7, r.settings);
      insert.exec();
    }
  });
}

void Store::prune_run(int64_t run_id, const std::string& why) {
  write("prune_run", [&](Session& s) {
    SQLite::Statement update = s.prepare(
        "UPDATE runs SET status = 'pruned', error = ?, finished_at = ? "
        "WHERE id = ? AND status = 'paused'");
    update.bind(1, why);
    update.bind(2, iso_utc_now());
    update.bind(3, run_id);
    update.exec();
  });
}

void Store::record_verification(int64_t run_id, bool matched, int epochs_compared, int mismatches,
                                const std::string& details_json, const Environment& env) {
  write("record_verification", [&](Session& s) {
    SQLite::Statement insert = s.prepare(
        "INSERT INTO verifications (run_id, verified_at, matched, epochs_compared, "
        "mismatches, details, threads, isa, onednn_version, host, git_commit) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, run_id);
    insert.bind(2, iso_utc_now());
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

void Store::mark_interrupted(int64_t run_id, const std::string& why) {
  write("mark_interrupted", [&](Session& s) {
    SQLite::Statement update = s.prepare(
        "UPDATE runs SET status = 'interrupted', error = :why, finished_at = :now "
        "WHERE id = :id AND status IN ('queued', 'running')");
    update.bind(":why", why);
    update.bind(":now", iso_utc_now());
    update.bind(":id", run_id);
    update.exec();
  });
}

}  // namespace lenetlab
