-- lenetlab results database, migration 1 (schema version 1): sweeps, runs, their epochs and test
-- metrics. Applied, with every later migration in order, to a new database (store/database.cpp kMigrations);
-- framework/store/README.md documents the resulting schema. A migration is never edited once
-- released: a change to the schema is a new migration file.
-- Times are ISO-8601 UTC text; durations are seconds; rates are images/s; losses are mean softmax
-- cross-entropy in nats; accuracies/precision/recall/F1 are fractions in [0, 1].

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
  weights_hash          TEXT                   -- XXH3-64 of the final parameters (hex)
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
