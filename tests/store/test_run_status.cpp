// RunStatus names and predicates (core/records.hpp), the vocabulary of the runs.status column.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "core/error.hpp"
#include "core/records.hpp"

using namespace lenetlab;

TEST_CASE("run status: every status round-trips through its name, and unknown names are refused") {
  const auto names = run_status_names();
  REQUIRE(names.size() == std::size(kRunStatuses));
  CHECK(std::set<std::string>(names.begin(), names.end()).size() == names.size());
  for (RunStatus status : kRunStatuses) CHECK(run_status_from_string(to_string(status)) == status);
  CHECK(names.front() == "queued");
  CHECK_THROWS_WITH_AS(run_status_from_string("done"),
                       doctest::Contains("unknown run status 'done'"), Error);
}

TEST_CASE("run status: final, retryable and problem sets") {
  std::set<std::string> final_set, retryable, problem;
  for (RunStatus status : kRunStatuses) {
    if (is_final(status)) final_set.insert(to_string(status));
    if (is_retryable(status)) retryable.insert(to_string(status));
    if (is_problem(status)) problem.insert(to_string(status));
  }
  CHECK(final_set == std::set<std::string>{"finished", "diverged", "stopped_early"});
  CHECK(retryable == std::set<std::string>{"failed", "diverged", "interrupted"});
  CHECK(problem == std::set<std::string>{"failed", "diverged", "interrupted"});
}

TEST_CASE("run status: display order is results, then problems, then unfinished") {
  std::set<int> ranks;
  for (RunStatus status : kRunStatuses) ranks.insert(display_rank(status));
  CHECK(ranks.size() == std::size(kRunStatuses));
  CHECK(display_rank(RunStatus::finished) < display_rank(RunStatus::stopped_early));
  CHECK(display_rank(RunStatus::stopped_early) < display_rank(RunStatus::diverged));
  CHECK(display_rank(RunStatus::interrupted) < display_rank(RunStatus::running));
  CHECK(display_rank(RunStatus::running) < display_rank(RunStatus::queued));
}
