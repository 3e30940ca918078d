// Loading architecture files (format: experiments/architectures/README.md) into ArchSpec.
//
// Thread-safety: no state is kept between calls; the functions read the file system.
#pragma once

#include <filesystem>
#include <string>

#include "config/architecture.hpp"

namespace lenetlab {

/// Parses an architecture file. Validates kinds, keys, value ranges, the output (softmax last and
/// exactly once, right after a dense layer with num_classes units) and the shapes (arch_cost:
/// every layer fits its input, the network is within lenetlab's limits). Every problem is a
/// ConfigError "file:line:column: ..." naming the valid choices; files above 1 MiB, with a
/// character YAML 1.2 forbids, duplicate keys or aliases are refused (config/yaml_reader.hpp).
/// parse_architecture takes the text itself; `file_name` is used for marks and ArchSpec::file.
ArchSpec load_architecture(const std::filesystem::path& file);
ArchSpec parse_architecture(const std::string& text, const std::string& file_name);

}  // namespace lenetlab
