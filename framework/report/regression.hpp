// The regression gate of `lenetlab compare --baseline OLD.db --candidate NEW.db`: configurations of
// two databases matched by their settings (configuration_identity, not run ids), and for each one
// whether the candidate is significantly worse than the baseline: lower test accuracy (one-sided
// paired t-test when both have the same seeds, else Welch's), lower training speed (one-sided
// Mann-Whitney U on the per-epoch images/s). Holm's adjustment over every check made controls the
// family-wise error rate of the gate.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "report/model.hpp"

namespace lenetlab::report {

struct RegressionOptions {
  /// Family-wise error rate of the gate (Holm 1979): a check is "worse" when its Holm-adjusted
  /// p-value is below it.
  double alpha = 0.05;
  /// Speed slack: the candidate's images/s are tested against the baseline's times (1 - margin),
  /// so that a shared machine's load does not fail the gate on a few percent (default 5%).
  double speed_margin = 0.05;
};

/// One configuration and metric checked.
struct RegressionCheck {
  std::string configuration;  ///< the baseline group's label without its id ("lenet5/sgd ...").
  std::string metric;         ///< "test_accuracy" or "images_per_second".
  std::string test;  ///< "paired t", "Welch t", "Mann-Whitney U" (one-sided), "" when untested.
  std::size_t n_baseline = 0, n_candidate = 0;  ///< runs (accuracy) or epochs (speed) used.
  double baseline = 0, candidate = 0;  ///< means (accuracy, fraction) or medians (images/s).
  std::optional<double> p_value;       ///< one-sided, H1: candidate worse.
  std::optional<double> p_holm;        ///< over every check with a p-value.
  bool worse = false;                  ///< p_holm < alpha.
  std::string note;                    ///< why a check was not made, or what it means.
};

struct RegressionReport {
  std::vector<RegressionCheck> checks;  ///< by configuration (baseline order), accuracy first.
  std::vector<std::string> only_in_baseline, only_in_candidate;  ///< unmatched configurations.
  std::size_t worse_count() const;
};

/// Matches the configurations of `baseline` and `candidate` and tests each as described above.
/// Accuracy: runs with a test accuracy; paired (seeds identical as sets, n >= 2) by
/// stats::paired_t_test, otherwise stats::welch_t_test (n >= 2 each), alternative "less" (candidate
/// minus baseline below 0). Constant paired differences leave the t-test undefined: no p-value, a
/// note. Speed: stats::mann_whitney_u of the candidate's per-epoch images/s against the baseline's
/// scaled by (1 - speed_margin), alternative "less".
RegressionReport regression_checks(const ReportModel& baseline, const ReportModel& candidate,
                                   const RegressionOptions& options = {});

}  // namespace lenetlab::report
