-- lenetlab results database, migration 8 (schema version 8): the training engine a bench run
-- measured (run setting `engine`: 1, or 2 with its micro_batch; framework/nn/micro_batch.hpp).
-- Bench runs written before this migration measured engine 1.
ALTER TABLE bench_runs ADD COLUMN engine INTEGER NOT NULL DEFAULT 1 CHECK (engine IN (1, 2));
ALTER TABLE bench_runs ADD COLUMN micro_batch INTEGER;  -- images per micro-batch; NULL for engine 1
