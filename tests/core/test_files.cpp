// core/files: read_file with a size limit, AtomicFile / write_file_atomic, TempDir.
#include "core/files.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using lenetlab::AtomicFile;
using lenetlab::Durability;
using lenetlab::FileError;
using lenetlab::read_file;
using lenetlab::TempDir;
using lenetlab::write_file_atomic;

namespace {

void put(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  return names;
}

/// The FileError `call` throws (fails the test if it throws nothing or something else).
template <class F>
FileError file_error_of(F&& call) {
  try {
    call();
  } catch (const FileError& e) {
    return e;
  }
  FAIL("expected a FileError");
  return FileError("", "");
}

}  // namespace

TEST_CASE("read_file returns the bytes verbatim, including NUL and CR") {
  TempDir dir("lenetlab-test");
  const std::string bytes = std::string("a\0b\r\nc", 6) + std::string(100000, 'x');
  put(dir / "f", bytes);
  CHECK(read_file(dir / "f", bytes.size()) == bytes);
  put(dir / "empty", "");
  CHECK(read_file(dir / "empty", 0).empty());
}

TEST_CASE("read_file refuses a file over the limit, naming the path, size and limit") {
  TempDir dir("lenetlab-test");
  put(dir / "big", std::string(1025, 'x'));
  const FileError e = file_error_of([&] { read_file(dir / "big", 1024); });
  CHECK(e.path() == dir / "big");
  CHECK(e.reason() == "file too large (1025 bytes; the limit is 1024 bytes)");
  CHECK(std::string(e.what()) == (dir / "big").string() + ": " + e.reason());
}

TEST_CASE("read_file: missing file, directory, unreadable file") {
  TempDir dir("lenetlab-test");
  CHECK(file_error_of([&] { read_file(dir / "nope", 10); }).reason() ==
        "file not found (or not a regular file)");
  CHECK(file_error_of([&] { read_file(dir.path(), 10); }).reason() ==
        "file not found (or not a regular file)");
  if (::geteuid() != 0) {  // root reads anything
    put(dir / "locked", "x");
    fs::permissions(dir / "locked", fs::perms::none);
    CHECK(
        file_error_of([&] { read_file(dir / "locked", 10); }).reason().starts_with("cannot open"));
  }
}

TEST_CASE("write_file_atomic replaces the content and leaves no temporary file") {
  for (Durability d : {Durability::kAtomicOnly, Durability::kSurvivePowerLoss}) {
    CAPTURE(static_cast<int>(d));
    TempDir dir("lenetlab-test");
    put(dir / "out.txt", "old content that is longer");
    write_file_atomic(dir / "out.txt", "new", d);
    CHECK(read_file(dir / "out.txt", 100) == "new");
    CHECK(names_in(dir.path()) == std::vector<std::string>{"out.txt"});
  }
}

TEST_CASE("write_file_atomic creates a file with umask permissions, not mkstemp's 0600") {
  TempDir dir("lenetlab-test");
  const mode_t old = ::umask(022);
  write_file_atomic(dir / "r.html", "x", Durability::kAtomicOnly);
  ::umask(old);
  CHECK((fs::status(dir / "r.html").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
         fs::perms::others_read));
}

TEST_CASE("write_file_atomic into a missing directory throws FileError and creates nothing") {
  TempDir dir("lenetlab-test");
  const FileError e = file_error_of(
      [&] { write_file_atomic(dir / "no" / "such" / "f", "x", Durability::kAtomicOnly); });
  CHECK(e.path().parent_path() == dir / "no" / "such");
  CHECK(e.reason().starts_with("cannot create"));
  CHECK(names_in(dir.path()).empty());
}

TEST_CASE("AtomicFile: the final name holds the old content until commit, none without it") {
  TempDir dir("lenetlab-test");
  put(dir / "ck", "old");
  {
    AtomicFile file(dir / "ck", Durability::kSurvivePowerLoss);
    CHECK(file.temp_path().parent_path() == dir.path());
    CHECK(file.temp_path().filename().string().starts_with(".ck.partial-"));
    file.write(std::string(200000, 'a'));  // larger than the buffer: written through
    file.write("tail");
    file.flush();
    CHECK(fs::file_size(file.temp_path()) == 200004);
    CHECK(read_file(dir / "ck", 10) == "old");
    // destroyed without commit: abandoned
  }
  CHECK(read_file(dir / "ck", 10) == "old");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"ck"});

  AtomicFile file(dir / "ck", Durability::kAtomicOnly);
  for (int i = 0; i < 1000; ++i) file.write("0123456789");
  file.commit();
  CHECK(read_file(dir / "ck", 10000) == [] {
    std::string s;
    for (int i = 0; i < 1000; ++i) s += "0123456789";
    return s;
  }());
  CHECK_THROWS_AS(file.write("x"), FileError);
  CHECK_THROWS_AS(file.commit(), FileError);
}

TEST_CASE("AtomicFile: two writers of one path get different temporary names") {
  TempDir dir("lenetlab-test");
  AtomicFile a(dir / "f", Durability::kAtomicOnly);
  AtomicFile b(dir / "f", Durability::kAtomicOnly);
  CHECK(a.temp_path() != b.temp_path());
  a.write("a");
  b.write("b");
  a.commit();
  b.commit();
  CHECK(read_file(dir / "f", 10) == "b");
}

TEST_CASE("AtomicFile: a relative path with no directory part uses the working directory") {
  TempDir dir("lenetlab-test");
  const fs::path old = fs::current_path();
  fs::current_path(dir.path());
  write_file_atomic("plain.txt", "x", Durability::kSurvivePowerLoss);
  fs::current_path(old);
  CHECK(read_file(dir / "plain.txt", 10) == "x");
}

TEST_CASE("TempDir: private, removed with its contents, movable") {
  fs::path where;
  {
    TempDir dir("lenetlab-tempdir-test");
    where = dir.path();
    CHECK(where.filename().string().starts_with("lenetlab-tempdir-test-"));
    CHECK(fs::is_directory(where));
    CHECK((fs::status(where).permissions() & fs::perms::all) == fs::perms::owner_all);
    fs::create_directories(dir / "a" / "b");
    put(dir / "a" / "b" / "f", "x");
    TempDir moved = std::move(dir);
    CHECK(moved.path() == where);
    CHECK(dir.path().empty());
  }
  CHECK_FALSE(fs::exists(where));
}
