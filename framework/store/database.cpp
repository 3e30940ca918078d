#include "store/database.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <iterator>
#include <system_error>

#include "store/migration_1.hpp"
#include "store/migration_2.hpp"
#include "store/migration_3.hpp"
#include "store/migration_4.hpp"
#include "store/migration_5.hpp"
#include "store/migration_6.hpp"
#include "store/migration_7.hpp"
#include "store/migration_8.hpp"
#include "store/migration_10.hpp"
#include "store/migration_9.hpp"
#include "store/store.hpp"

namespace lenetlab::detail {

namespace {

/// One step of the schema: the SQL that takes a database from version `version - 1` to `version`.
struct Migration {
  int version;
  const char* sql;
};

/// The schema's history, in order. A released migration is never edited; a schema change appends
/// a migration and raises kSchemaVersion to its version.
constexpr Migration kMigrations[] = {
    {1, kMigration1Sql}, {2, kMigration2Sql},   {3, kMigration3Sql}, {4, kMigration4Sql},
    {5, kMigration5Sql}, {6, kMigration6Sql},   {7, kMigration7Sql}, {8, kMigration8Sql},
    {9, kMigration9Sql}, {10, kMigration10Sql},
};
static_assert(std::size(kMigrations) == kSchemaVersion,
              "kSchemaVersion must be the version of the last migration");

int read_user_version(Session& session) {
  SQLite::Statement query = session.prepare("PRAGMA user_version");
  query.executeStep();
  return query.getColumn(0).getInt();
}

std::string foreign_schema(const std::filesystem::path& path) {
  return fmt::format(
      "{} is a SQLite database but not a lenetlab results database (it has no lenetlab schema)",
      path.string());
}

/// Opens the SQLite connection; SQLite's errors (a missing directory, no permission) become
/// StoreError.
std::unique_ptr<SQLite::Database> connect(const std::filesystem::path& path, int flags,
                                          std::chrono::milliseconds busy_timeout) {
  try {
    auto db = std::make_unique<SQLite::Database>(path.string(), flags);
    db->setBusyTimeout(static_cast<int>(busy_timeout.count()));
    return db;
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("cannot open results database {}: {}", path.string(), e.what()));
  }
}

/// The schema version of an open connection: the first statement that reads the file, so a file
/// that is not a SQLite database fails here (SQLITE_NOTADB). Refuses versions newer than this
/// build's.
int checked_version(SQLite::Database& db, const std::filesystem::path& path) {
  Session session(db);
  int version = 0;
  try {
    version = read_user_version(session);
  } catch (const SQLite::Exception& e) {
    if ((e.getErrorCode() & 0xff) == SQLITE_NOTADB)
      throw StoreError(fmt::format("{} is not a lenetlab results database (SQLite): {}",
                                   path.string(), e.what()));
    throw StoreError(describe_failure(path, "opening", session, e));
  }
  if (version > kSchemaVersion)
    throw StoreError(
        fmt::format("results database {}: database schema version {} is newer than this lenetlab "
                    "(supports {}); upgrade lenetlab",
                    path.string(), version, kSchemaVersion));
  return version;
}

/// Runs the PRAGMAs of one open mode.
void configure(SQLite::Database& db, const std::filesystem::path& path, OpenMode mode) {
  Session session(db);
  try {
    session.exec("PRAGMA foreign_keys = ON");
    if (mode == OpenMode::read) {
      session.exec("PRAGMA query_only = 1");
      return;
    }
    // WAL: readers (`lenetlab query`, the sqlite3 shell) never block the writer and vice versa.
    // NORMAL is durable against application crashes; a power loss may lose the last commits.
    session.exec("PRAGMA journal_mode = WAL");
    session.exec("PRAGMA synchronous = NORMAL");
  } catch (const SQLite::Exception& e) {
    throw StoreError(describe_failure(path, "opening", session, e));
  }
}

std::unique_ptr<SQLite::Database> open_for_writing(const std::filesystem::path& path,
                                                   std::chrono::milliseconds busy_timeout) {
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
      throw StoreError(fmt::format("cannot create the directory {} for the results database: {}",
                                   path.parent_path().string(), ec.message()));
  }
  auto db = connect(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, busy_timeout);
  // SQLite silently falls back to read-only when the file is not writable.
  if (sqlite3_db_readonly(db->getHandle(), "main") == 1)
    throw StoreError(fmt::format(
        "results database {} is read-only (no write permission); lenetlab needs to write to it",
        path.string()));
  const int version = checked_version(*db, path);
  configure(*db, path, OpenMode::write);
  if (version < kSchemaVersion) migrate(*db, path);
  return db;
}

std::unique_ptr<SQLite::Database> open_for_reading(const std::filesystem::path& path,
                                                   std::chrono::milliseconds busy_timeout) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw StoreError(
        fmt::format("no results database at {}; run `lenetlab run SWEEP` first", path.string()));
  auto db = connect(path, SQLite::OPEN_READONLY, busy_timeout);
  const int version = checked_version(*db, path);
  if (version == 0) throw StoreError(foreign_schema(path));
  if (version < kSchemaVersion) {
    db.reset();
    auto writer = connect(path, SQLite::OPEN_READWRITE, busy_timeout);
    if (sqlite3_db_readonly(writer->getHandle(), "main") == 1)
      throw StoreError(fmt::format(
          "results database {} has schema version {} and this lenetlab reads version {}: it "
          "upgrades the file in place, but the file is read-only (no write permission)",
          path.string(), version, kSchemaVersion));
    configure(*writer, path, OpenMode::write);
    migrate(*writer, path);
    writer.reset();
    db = connect(path, SQLite::OPEN_READONLY, busy_timeout);
  }
  configure(*db, path, OpenMode::read);
  return db;
}

}  // namespace

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

std::string describe_failure(const std::filesystem::path& path, const std::string& operation,
                             const Session& session, const SQLite::Exception& e) {
  if (session.sql().empty())
    return fmt::format("results database {}: {} failed: {}", path.string(), operation, e.what());
  return fmt::format("results database {}: {} failed at `{}`: {}", path.string(), operation,
                     abbreviate_sql(session.sql()), e.what());
}

void migrate(SQLite::Database& db, const std::filesystem::path& path) {
  in_transaction(db, path, fmt::format("upgrading the schema to version {}", kSchemaVersion),
                 SQLite::TransactionBehavior::IMMEDIATE, [&](Session& s) {
                   const int version = read_user_version(s);
                   if (version >= kSchemaVersion) return;  // another process upgraded it meanwhile
                   if (version == 0) {
                     SQLite::Statement objects = s.prepare("SELECT count(*) FROM sqlite_master");
                     objects.executeStep();
                     if (objects.getColumn(0).getInt64() != 0)
                       throw StoreError(foreign_schema(path));
                   }
                   for (const Migration& migration : kMigrations)
                     if (migration.version > version) s.exec(migration.sql);
                   s.exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
                 });
}

std::unique_ptr<SQLite::Database> open_database(const std::filesystem::path& path, OpenMode mode,
                                                std::chrono::milliseconds busy_timeout) {
  return mode == OpenMode::write ? open_for_writing(path, busy_timeout)
                                 : open_for_reading(path, busy_timeout);
}

}  // namespace lenetlab::detail
