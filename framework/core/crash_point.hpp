// Fault injection for crash-safety tests, after LevelDB's fault-injection environment: the process
// kills itself with SIGKILL at a chosen point, so a test can interrupt it at exactly the same place
// on every machine, however fast (a timer-based kill is not reproducible).
//
// LENETLAB_CRASH_AT selects the point:
//   "N"       the N-th crash point of any kind this process passes (N >= 1), or
//   "KIND:N"  the N-th pass of crash points of that kind, e.g. "checkpoint-written:2".
// Passes are counted over all threads from process start. Unset or empty: no effect beyond one
// relaxed atomic load per call. A malformed value is reported on stderr once and ignored.
#pragma once

namespace lenetlab {

/// Kinds of crash points, in the order a training epoch passes them.
///   "step"               after an optimizer step (a batch is done, nothing recorded yet)
///   "epoch-committed"    right after the epoch's row is committed to the database
///   "checkpoint-written" a checkpoint's temporary file is complete, not yet renamed into place
///   "checkpoint-renamed" the checkpoint is in place
///   "run-trained"        a run is trained and evaluated, its result not yet recorded
void crash_point(const char* kind);

}  // namespace lenetlab
