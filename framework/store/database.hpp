// Internal to store/: the one open-and-validate path of the results database, the schema
// migrations, and the transaction helper every write goes through. Included only by store/*.cpp
// (it exposes SQLiteCpp, which no module outside store/ sees).
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "core/error.hpp"

namespace lenetlab::detail {

/// How open_database opens the file.
enum class OpenMode {
  /// Create the file (and its parent directories) and the schema when absent, upgrade an older
  /// schema, refuse a file SQLite would open read-only. WAL, synchronous=NORMAL.
  write,
  /// The file must exist and hold a lenetlab schema; SQLITE_OPEN_READONLY and PRAGMA query_only=1.
  /// An older schema version is upgraded first (a short write on a connection of its own, see
  /// migrate), so every reader sees the current schema.
  read,
};

/// Opens the results database at `path`: the one open-and-validate path of Store and
/// ResultsReader. Foreign keys on in both modes; a statement waits up to `busy_timeout` for another
/// connection's lock. Throws StoreError naming the
/// file: no file (read), unwritable (write), not a SQLite file, a SQLite file of another program
/// (tables but user_version 0), schema version newer than kSchemaVersion.
std::unique_ptr<SQLite::Database> open_database(const std::filesystem::path& path, OpenMode mode,
                                                std::chrono::milliseconds busy_timeout);

/// Brings the database to kSchemaVersion by applying, in order and in one IMMEDIATE transaction,
/// every migration above its PRAGMA user_version (read again inside the transaction, so two
/// processes opening one file upgrade it once). A new, empty file (version 0, no tables) gets every
/// migration. Throws StoreError on a foreign schema (tables at version 0) or a failing statement.
void migrate(SQLite::Database& db, const std::filesystem::path& path);

/// First line of a SQL statement, whitespace-collapsed and cut to a readable length.
std::string abbreviate_sql(const std::string& sql);

/// The statements of one store operation. Remembers the SQL it is running so that a failure can
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

/// "results database PATH: OPERATION failed at `SQL`: SQLITE MESSAGE".
std::string describe_failure(const std::filesystem::path& path, const std::string& operation,
                             const Session& session, const SQLite::Exception& e);

/// Runs body(Session&) inside one transaction on db, committed before returning. IMMEDIATE takes
/// the write lock up front so that two writers wait on the busy timeout instead of failing to
/// upgrade a read lock. Converts SQLite::Exception into StoreError (describe_failure).
template <typename Body>
auto in_transaction(SQLite::Database& db, const std::filesystem::path& path,
                    const std::string& operation, SQLite::TransactionBehavior behavior,
                    Body&& body) {
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

/// Binds `value`, or NULL when it is empty.
template <typename T>
void bind_optional(SQLite::Statement& statement, const char* name, const std::optional<T>& value) {
  if (value)
    statement.bind(name, *value);
  else
    statement.bind(name);
}

/// Binds `text`, or NULL when it is empty.
inline void bind_text_or_null(SQLite::Statement& statement, const char* name,
                              const std::string& text) {
  if (text.empty())
    statement.bind(name);
  else
    statement.bind(name, text);
}

}  // namespace lenetlab::detail
