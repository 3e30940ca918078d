-- lenetlab results database, migration 5 (schema version 5): successive halving. Two run statuses
-- join the CHECK of runs.status: 'paused' (trained to its rung's epoch budget, waiting for the
-- rung's decision) and 'pruned' (not promoted). The CHECK is widened in place, as SQLite's
-- documentation describes for changes that leave every stored row valid ("ALTER TABLE", section
-- "Making Other Kinds Of Table Schema Changes"): the table's SQL text in sqlite_schema is
-- rewritten, writable_schema=RESET reloads the schema, and the CREATE TABLE below changes the
-- schema cookie so other connections reload it too. Whatever columns later migrations add to runs
-- stay untouched. The search_rungs table records every rung decision.

PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''stopped_early'',''interrupted'')',
                     '''stopped_early'',''interrupted'',''paused'',''pruned'')')
 WHERE type = 'table' AND name = 'runs';
PRAGMA writable_schema = RESET;

-- One row per candidate run and rung of a successive-halving sweep: the run reached `epochs`
-- (the rung's budget), scored `metric_value` on the sweep's metric at that epoch (NULL when it
-- diverged before), ranked `rank` (1 = best; ties broken by run key) and was promoted to the next
-- rung or not. Replaced whenever the rung is decided again (a rerun of the sweep decides the same).
CREATE TABLE IF NOT EXISTS search_rungs (
  sweep_id      INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  rung          INTEGER NOT NULL,   -- 0-based
  epochs        INTEGER NOT NULL,   -- the rung's epoch budget
  metric        TEXT NOT NULL,      -- val_accuracy | val_loss
  metric_value  REAL,
  rank          INTEGER NOT NULL,
  candidates    INTEGER NOT NULL,   -- runs ranked in this rung
  promoted      INTEGER NOT NULL,   -- 1: continues to the next rung (0 in the last rung)
  PRIMARY KEY (sweep_id, run_id, rung)
);
