-- lenetlab results database, migration 9 (schema version 9): Hyperband's brackets (sweeps/README.md
-- "Hyperband"; sweep/halving.hpp). A rung decision belongs to a bracket: the candidates of each
-- bracket are halved separately, from their own first budget, and each bracket numbers its rungs
-- from 0. Rows written before (successive halving: one bracket) are bracket 0.
ALTER TABLE search_rungs ADD COLUMN bracket INTEGER NOT NULL DEFAULT 0;
