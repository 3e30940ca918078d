// Capture of the execution environment recorded with every run.
#pragma once

#include "core/records.hpp"

namespace lenetlab {

/// Reads host, CPU model, oneDNN version and effective ISA, compiler and build commit.
/// threads is set to the given OpenMP thread count. Never throws (unknown fields are "unknown").
Environment capture_environment(int threads);

}  // namespace lenetlab
