-- lenetlab results database, migration 2 (schema version 2): the owner and heartbeat of a running
-- run (several processes on one database) and the verifications table (`lenetlab verify`).

ALTER TABLE runs ADD COLUMN owner TEXT;         -- "host:pid" of the process training the run
ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;  -- last sign of life of that process (every 15 s)

-- One row per `lenetlab verify RUN`: the run re-executed under its recorded conditions and every
-- stored per-epoch metric (train/val loss and accuracy), the test metrics and the weights hash
-- compared bit for bit.
CREATE TABLE IF NOT EXISTS verifications (
  id               INTEGER PRIMARY KEY,
  run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  verified_at      TEXT NOT NULL,
  matched          INTEGER NOT NULL,   -- 1 when every compared value is identical
  epochs_compared  INTEGER NOT NULL,
  mismatches       INTEGER NOT NULL,   -- number of differing values
  details          TEXT NOT NULL,      -- JSON: [{epoch, metric, stored, reproduced}] of the differences
  threads          INTEGER,
  isa              TEXT,
  onednn_version   TEXT,
  host             TEXT,
  git_commit       TEXT
);
