-- lenetlab results database, schema version 2 (version 1 lacked verifications, owner, heartbeat_at;
-- Store upgrades it in place).
-- One row per sweep, per run, per epoch of a run, per class of a run's test evaluation and per
-- confusion-matrix cell. Times are ISO-8601 UTC text; durations are seconds; rates are images/s;
-- losses are mean softmax cross-entropy in nats; accuracies/precision/recall/F1 are fractions in [0, 1].
-- PRAGMA user_version holds the schema version (1); the Store sets it after running this file.
-- This file is the single source of truth: framework/store/CMakeLists.txt embeds it in the binary and
-- the Store executes it, in one transaction, on a new (empty) database. Any change to a table here
-- must come with a new schema version (store.hpp kSchemaVersion) and a migration.

CREATE TABLE IF NOT EXISTS sweeps (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,     -- sweep "name:" from its YAML file
  file        TEXT NOT NULL,            -- path of the sweep file as given on the command line
  yaml        TEXT NOT NULL,            -- verbatim text of the sweep file at the last `lenetlab run`
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS runs (
  id                    INTEGER PRIMARY KEY,
  key                   TEXT NOT NULL UNIQUE,  -- 16 hex digits, hash of config_json (RunConfig::key)
  sweep_id              INTEGER NOT NULL REFERENCES sweeps(id),
  name                  TEXT NOT NULL,         -- display name, e.g. "lenet-relu/sgd lr=0.01 bs=128 seed=1"
  architecture          TEXT NOT NULL,
  optimizer             TEXT NOT NULL,
  learning_rate         REAL NOT NULL,
  batch_size            INTEGER NOT NULL,
  epochs                INTEGER NOT NULL,      -- epochs requested
  seed                  INTEGER NOT NULL,
  dataset               TEXT NOT NULL,
  config_json           TEXT NOT NULL,         -- resolved configuration, canonical JSON
  status                TEXT NOT NULL CHECK (status IN
                          ('queued','running','finished','failed','diverged','stopped_early','interrupted')),
  error                 TEXT,
  diverged_epoch        INTEGER,
  parameters            INTEGER,               -- all parameters incl. batch-norm running statistics
  trainable_parameters  INTEGER,
  macs_per_image        INTEGER,               -- forward multiply-accumulates per image
  -- environment (see framework/core/records.hpp Environment)
  threads               INTEGER,
  host                  TEXT,
  cpu_model             TEXT,
  isa                   TEXT,
  onednn_version        TEXT,
  tbb_version           TEXT,
  compiler              TEXT,
  build_type            TEXT,
  git_commit            TEXT,
  dataset_sha256        TEXT,
  -- progress and results
  started_at            TEXT,
  finished_at           TEXT,
  seconds               REAL,                  -- wall time of the run
  epochs_completed      INTEGER NOT NULL DEFAULT 0,
  best_epoch            INTEGER,
  best_val_accuracy     REAL,
  test_loss             REAL,
  test_accuracy         REAL,
  test_images           INTEGER,
  weights_hash          TEXT,                  -- XXH3-64 of the final parameters (hex)
  owner                 TEXT,                  -- "host:pid" of the process training it (status running)
  heartbeat_at          TEXT                   -- last sign of life of that process (every epoch/30 s)
);
CREATE INDEX IF NOT EXISTS runs_sweep ON runs(sweep_id);

CREATE TABLE IF NOT EXISTS epochs (
  run_id             INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch              INTEGER NOT NULL,   -- 1-based
  train_loss         REAL NOT NULL,
  train_accuracy     REAL NOT NULL,
  val_loss           REAL,               -- NULL without a validation split
  val_accuracy       REAL,
  learning_rate      REAL NOT NULL,
  seconds            REAL NOT NULL,      -- training time of the epoch (validation excluded)
  images_per_second  REAL NOT NULL,
  recorded_at        TEXT NOT NULL,
  PRIMARY KEY (run_id, epoch)
);

CREATE TABLE IF NOT EXISTS class_metrics (
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  label      INTEGER NOT NULL,
  precision  REAL NOT NULL,
  recall     REAL NOT NULL,
  f1         REAL NOT NULL,
  support    INTEGER NOT NULL,
  PRIMARY KEY (run_id, label)
);

CREATE TABLE IF NOT EXISTS confusion (
  run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  true_label       INTEGER NOT NULL,
  predicted_label  INTEGER NOT NULL,
  count            INTEGER NOT NULL,
  PRIMARY KEY (run_id, true_label, predicted_label)
);

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

-- Published results a sweep compares itself with (its `references` list), replaced whenever the
-- sweep is run. test_accuracy is the published figure; required_test_accuracy the bar a
-- reproduction's mean over seeds must reach (0 = none).
CREATE TABLE IF NOT EXISTS published_results (
  sweep_id                INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  architecture            TEXT NOT NULL,
  test_accuracy           REAL NOT NULL,
  required_test_accuracy  REAL NOT NULL,
  source                  TEXT NOT NULL,
  PRIMARY KEY (sweep_id, architecture)
);
