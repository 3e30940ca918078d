-- lenetlab results database, migration 3 (schema version 3): published reference results of a
-- sweep, and the tables of `lenetlab bench`. Every statement is IF NOT EXISTS: version 2 databases
-- written by earlier builds may hold some of these tables already (published_results and the bench
-- tables were created outside the versioned schema then).
-- Bench units: rates are images/s; durations are milliseconds per training step.

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

CREATE TABLE IF NOT EXISTS bench_runs (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (kind IN ('matrix', 'profile')),
  started_at      TEXT NOT NULL,
  finished_at     TEXT,                  -- NULL while running or when interrupted
  matrix_file     TEXT NOT NULL,         -- path of the matrix file as given (or the default)
  matrix_yaml     TEXT NOT NULL,         -- its verbatim text
  dataset         TEXT NOT NULL,
  dataset_sha256  TEXT NOT NULL,
  -- environment (framework/core/records.hpp Environment; threads is per result row)
  host            TEXT NOT NULL,
  cpu_model       TEXT NOT NULL,
  cores           INTEGER NOT NULL,      -- std::thread::hardware_concurrency()
  load_average    REAL,                  -- 1-minute load average at the start (NULL unknown)
  isa             TEXT NOT NULL,         -- dnnl::get_effective_cpu_isa()
  onednn_version  TEXT NOT NULL,
  tbb_version     TEXT NOT NULL,
  compiler        TEXT NOT NULL,
  build_type      TEXT NOT NULL,
  build_flags     TEXT NOT NULL,         -- CMAKE_CXX_FLAGS and CMAKE_CXX_FLAGS_<BUILD_TYPE>
  git_commit      TEXT NOT NULL
);

-- One row per architecture x batch size x threads x mode of a matrix bench.
CREATE TABLE IF NOT EXISTS bench_results (
  bench_run_id              INTEGER NOT NULL REFERENCES bench_runs(id) ON DELETE CASCADE,
  architecture              TEXT NOT NULL,
  batch_size                INTEGER NOT NULL,
  threads                   INTEGER NOT NULL,   -- OpenMP threads inside oneDNN
  mode                      TEXT NOT NULL CHECK (mode IN ('training', 'inference')),
  images_per_second_min     REAL NOT NULL,      -- over the repetitions
  images_per_second_median  REAL NOT NULL,
  images_per_second_max     REAL NOT NULL,
  samples                   TEXT NOT NULL,      -- JSON array: images/s of each repetition, in order
  macs_per_image            INTEGER NOT NULL,   -- forward multiply-accumulates per image
  warmup_steps              INTEGER NOT NULL,
  steps                     INTEGER NOT NULL,   -- steps per repetition
  repetitions               INTEGER NOT NULL,
  PRIMARY KEY (bench_run_id, architecture, batch_size, threads, mode)
);

-- One row per part of a profiled training step (`lenetlab bench --profile ARCH`), in step order.
CREATE TABLE IF NOT EXISTS bench_profile (
  bench_run_id     INTEGER NOT NULL REFERENCES bench_runs(id) ON DELETE CASCADE,
  position         INTEGER NOT NULL,   -- 0-based row order
  architecture     TEXT NOT NULL,
  batch_size       INTEGER NOT NULL,
  threads          INTEGER NOT NULL,
  part             TEXT NOT NULL,      -- layer name, or data | loss | optimizer | step
  direction        TEXT NOT NULL CHECK (direction IN ('forward', 'backward', 'backward_data',
                     'backward_weights', 'backward_other', 'step', 'whole')),
  ms_per_step      REAL NOT NULL,      -- median over repetitions of the mean per step
  percent_of_step  REAL NOT NULL,      -- 100 * ms_per_step / whole-step time
  in_sum           INTEGER NOT NULL,   -- 1: one of the disjoint parts summed against the whole step
  steps            INTEGER NOT NULL,
  repetitions      INTEGER NOT NULL,
  PRIMARY KEY (bench_run_id, position)
);
