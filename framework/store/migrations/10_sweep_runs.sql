-- lenetlab results database, migration 10 (schema version 10): which sweeps hold a run. A run is
-- stored once, by its key, under the sweep that prepared it (runs.sweep_id); another sweep that
-- plans the same run (same key: a renamed copy of a sweep file, a grid that contains an earlier
-- search's points) skips it when it is final, and it belongs to that sweep too. `lenetlab query
-- runs --sweep`, `report --sweep` and `compare --sweep` list a sweep's runs from this table.
CREATE TABLE IF NOT EXISTS sweep_runs (
  sweep_id  INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  PRIMARY KEY (sweep_id, run_id)
);
INSERT OR IGNORE INTO sweep_runs (sweep_id, run_id) SELECT sweep_id, id FROM runs;
