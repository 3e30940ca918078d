-- lenetlab results database, migration 7 (schema version 7): the selections of a tune-then-
-- replicate protocol (sweeps/README.md "Protocol"; sweep/protocol.hpp). One row per group of the
-- protocol's `per` (architecture and/or optimizer): the stage-1 (tuning) run whose setting had the
-- best validation metric, averaged over the tuning seeds (ties broken by run key). Computed from the
-- stored epoch rows only; replaced whenever the selection is made again (identically).
CREATE TABLE IF NOT EXISTS protocol_selections (
  sweep_id      INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,  -- the protocol (stage 2)
  group_name    TEXT NOT NULL,     -- e.g. 'optimizer=adam'; '' without per
  run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,  -- the chosen tuning run
  metric        TEXT NOT NULL,     -- val_accuracy | val_loss
  metric_value  REAL NOT NULL,     -- mean over the setting's tuning runs, at their last epoch
  tuning_runs   INTEGER NOT NULL,  -- runs averaged: one per tuning seed
  settings      INTEGER NOT NULL,  -- settings compared in the group
  PRIMARY KEY (sweep_id, group_name)
);
