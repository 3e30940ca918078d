-- Compares every stored result of two lenetlab results databases, `main` and `other` (ATTACHed):
-- per run key its configuration, status, epoch counts, test metrics, weights hash, model size,
-- thread count and dataset checksum; every epoch's metrics; every class-metrics row and confusion
-- cell. Times, hosts and ids are not compared (they differ between any two trainings).
-- One row per table: table | rows in main | rows in other | rows of either missing from the other.
-- Used by ci/compare-results.sh and tests/store/test_merge_mnist.cpp.
WITH
  a_runs AS (SELECT key, config_json, status, epochs_completed, diverged_epoch, best_epoch,
                    best_val_accuracy, test_loss, test_accuracy, test_images, weights_hash,
                    parameters, trainable_parameters, macs_per_image, threads, dataset_sha256
             FROM main.runs),
  b_runs AS (SELECT key, config_json, status, epochs_completed, diverged_epoch, best_epoch,
                    best_val_accuracy, test_loss, test_accuracy, test_images, weights_hash,
                    parameters, trainable_parameters, macs_per_image, threads, dataset_sha256
             FROM other.runs),
  a_epochs AS (SELECT r.key, e.epoch, e.train_loss, e.train_accuracy, e.val_loss, e.val_accuracy,
                      e.learning_rate FROM main.epochs e JOIN main.runs r ON r.id = e.run_id),
  b_epochs AS (SELECT r.key, e.epoch, e.train_loss, e.train_accuracy, e.val_loss, e.val_accuracy,
                      e.learning_rate FROM other.epochs e JOIN other.runs r ON r.id = e.run_id),
  a_class AS (SELECT r.key, c.label, c.precision, c.recall, c.f1, c.support
              FROM main.class_metrics c JOIN main.runs r ON r.id = c.run_id),
  b_class AS (SELECT r.key, c.label, c.precision, c.recall, c.f1, c.support
              FROM other.class_metrics c JOIN other.runs r ON r.id = c.run_id),
  a_confusion AS (SELECT r.key, c.true_label, c.predicted_label, c.count
                  FROM main.confusion c JOIN main.runs r ON r.id = c.run_id),
  b_confusion AS (SELECT r.key, c.true_label, c.predicted_label, c.count
                  FROM other.confusion c JOIN other.runs r ON r.id = c.run_id)
SELECT 'runs', (SELECT count(*) FROM a_runs), (SELECT count(*) FROM b_runs),
       (SELECT count(*) FROM (SELECT * FROM a_runs EXCEPT SELECT * FROM b_runs)) +
       (SELECT count(*) FROM (SELECT * FROM b_runs EXCEPT SELECT * FROM a_runs))
UNION ALL
SELECT 'epochs', (SELECT count(*) FROM a_epochs), (SELECT count(*) FROM b_epochs),
       (SELECT count(*) FROM (SELECT * FROM a_epochs EXCEPT SELECT * FROM b_epochs)) +
       (SELECT count(*) FROM (SELECT * FROM b_epochs EXCEPT SELECT * FROM a_epochs))
UNION ALL
SELECT 'class_metrics', (SELECT count(*) FROM a_class), (SELECT count(*) FROM b_class),
       (SELECT count(*) FROM (SELECT * FROM a_class EXCEPT SELECT * FROM b_class)) +
       (SELECT count(*) FROM (SELECT * FROM b_class EXCEPT SELECT * FROM a_class))
UNION ALL
SELECT 'confusion', (SELECT count(*) FROM a_confusion), (SELECT count(*) FROM b_confusion),
       (SELECT count(*) FROM (SELECT * FROM a_confusion EXCEPT SELECT * FROM b_confusion)) +
       (SELECT count(*) FROM (SELECT * FROM b_confusion EXCEPT SELECT * FROM a_confusion));
