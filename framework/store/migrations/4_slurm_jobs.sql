-- lenetlab results database, migration 4 (schema version 4): the Slurm job arrays a sweep was
-- submitted as (`lenetlab slurm submit`), one row per sbatch submission, in submission order.
CREATE TABLE slurm_jobs (
  id            INTEGER PRIMARY KEY,
  sweep_id      INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  job_id        TEXT NOT NULL,     -- the array job id sbatch --parsable printed (without ";cluster")
  cluster       TEXT,              -- the cluster sbatch named after ';', NULL when it named none
  tasks         INTEGER NOT NULL,  -- N: each array task I trains shard I of N
  array         TEXT NOT NULL,     -- the task ids submitted, sbatch --array syntax ("0-3", "1,3")
  script        TEXT NOT NULL,     -- path of the sbatch script kept under <db dir>/slurm/
  shard_dir     TEXT NOT NULL,     -- directory of the shard databases (shard-I-of-N.db)
  submitted_at  TEXT NOT NULL
);
CREATE INDEX slurm_jobs_sweep ON slurm_jobs(sweep_id);
