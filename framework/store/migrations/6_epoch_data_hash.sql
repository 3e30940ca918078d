-- lenetlab results database, migration 6 (schema version 6): each epoch's data hash, the
-- identity of the images it trained on in their order and with their distortions
-- (train/distortion.hpp epoch_data_hash: 16 hex digits). Rows written before this migration keep
-- NULL: their data is not known.
ALTER TABLE epochs ADD COLUMN data_hash TEXT;
