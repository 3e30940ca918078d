// A fresh directory for one test, removed with its contents at the end: core/files.hpp's TempDir
// with the prefix "lenetlab-test". Shared by every test executable (tests/ is on their include
// path); each links lenetlab_core through the module it tests.
#pragma once

#include <filesystem>
#include <string>

#include "core/files.hpp"

namespace lenetlab::test {

class TempDir : public lenetlab::TempDir {
 public:
  TempDir() : lenetlab::TempDir("lenetlab-test") {}
  std::filesystem::path operator/(const std::string& name) const { return path() / name; }
};

}  // namespace lenetlab::test
