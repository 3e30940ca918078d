// Store: the Slurm job arrays a sweep was submitted as (table slurm_jobs).
#include <fmt/format.h>

#include "core/error.hpp"
#include "core/text.hpp"
#include "store/database.hpp"
#include "store/store.hpp"

namespace lenetlab {

using detail::bind_optional;
using detail::Session;

int64_t Store::record_slurm_job(const SlurmJobRow& job) {
  int64_t id = 0;
  write("record_slurm_job", [&](Session& s) {
    SQLite::Statement sweep = s.prepare("SELECT id FROM sweeps WHERE name = :name");
    sweep.bind(":name", job.sweep);
    if (!sweep.executeStep())
      throw StoreError(fmt::format("{}: no sweep named '{}' to record Slurm job {} with",
                                   path_.string(), job.sweep, job.job_id));
    const int64_t sweep_id = sweep.getColumn(0).getInt64();
    SQLite::Statement insert = s.prepare(
        "INSERT INTO slurm_jobs (sweep_id, job_id, cluster, tasks, array, script, shard_dir, "
        "submitted_at) VALUES (:sweep_id, :job_id, :cluster, :tasks, :array, :script, "
        ":shard_dir, :now)");
    insert.bind(":sweep_id", sweep_id);
    insert.bind(":job_id", job.job_id);
    bind_optional(insert, ":cluster", job.cluster);
    insert.bind(":tasks", job.tasks);
    insert.bind(":array", job.array);
    insert.bind(":script", job.script);
    insert.bind(":shard_dir", job.shard_dir);
    insert.bind(":now", iso_utc_now());
    insert.exec();
    id = s.db().getLastInsertRowid();
  });
  return id;
}

}  // namespace lenetlab
