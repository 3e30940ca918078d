// `cmake --install` of this build tree into a temporary prefix: the installed lenetlab, run from
// another working directory with an empty home and no source-tree hints, finds its architectures,
// its sweeps by name and the report's chart libraries under <prefix>/share/lenetlab
// (config/search_path.hpp installed_data_dir).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/loaders.hpp"
#include "data/process.hpp"
#include "run_cli.hpp"
#include "skip.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

using lenetlab::test::CliResult;
using lenetlab::test::run_command;
using lenetlab::test::TempDir;

/// The installed lenetlab with HOME, the dataset cache and the assets cache inside `dir`.
CliResult installed(const TempDir& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"env",
                                "-u",
                                "LENETLAB_ARCH_PATH",
                                "-u",
                                "LENETLAB_ASSETS_DIR",
                                "-u",
                                "XDG_CACHE_HOME",
                                "HOME=" + (dir / "home").string(),
                                "LENETLAB_DATA_DIR=" + (dir / "cache/datasets").string(),
                                (dir / "prefix/bin/lenetlab").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, dir / "work");
}

TEST_CASE("install: an installed lenetlab finds architectures, sweeps and assets without sources") {
  TempDir dir;
  fs::create_directories(dir / "work");
  fs::create_directories(dir / "home");
  fs::create_directories(dir / "cache/datasets");
  std::string output;
  const int status = lenetlab::run_process(
      {"cmake", "--install", LENETLAB_BINARY_DIR, "--prefix", (dir / "prefix").string()},
      dir.path(), &output);
  INFO(output);
  REQUIRE(status == 0);
  const fs::path share = dir / "prefix/share/lenetlab";

  const CliResult describe = installed(dir, {"describe", "lenet5"});
  INFO(describe.output);
  REQUIRE(describe.status == 0);
  CHECK(
      describe.output.find("file: " + (share / "experiments/architectures/lenet5.yaml").string()) !=
      std::string::npos);
  CHECK(describe.output.find("parameters: 60,850") != std::string::npos);

  const CliResult dry = installed(dir, {"run", "quickstart", "--dry-run"});
  INFO(dry.output);
  REQUIRE(dry.status == 0);
  CHECK(dry.output.find((share / "sweeps/quickstart.yaml").string()) != std::string::npos);
  CHECK(dry.output.find("30 runs") != std::string::npos);

  fs::path mnist;
  try {
    mnist = lenetlab::dataset_cache_dir() / "mnist";
    lenetlab::load_dataset("mnist", lenetlab::dataset_cache_dir());
  } catch (const std::exception& e) {
    LENETLAB_SKIP_TEST("real MNIST is missing (", e.what(), "): `lenetlab data fetch mnist`");
  }
  if (!fs::exists(share / "assets/vega.min.js"))
    LENETLAB_SKIP_TEST(
        "the build installed no report assets: run `lenetlab report "
        "--fetch-assets`, then cmake again");
  fs::create_directory_symlink(mnist, dir / "cache/datasets/mnist");
  std::ofstream(dir / "work/tiny.yaml")
      << "name: tiny\ndataset: mnist\nbase: {epochs: 1, train_limit: 100, test_limit: 100, "
         "architecture: lenet5-relu}\n";
  const CliResult run = installed(dir, {"run", "tiny.yaml", "-q"});
  INFO(run.output);
  REQUIRE(run.status == 0);
  const CliResult report = installed(dir, {"report", "-o", "tiny.html"});
  INFO(report.output);
  REQUIRE(report.status == 0);
  CHECK(fs::file_size(dir / "work/tiny.html") > 500 * 1024);  // the libraries are inlined
  CHECK_FALSE(fs::exists(dir / "home/.cache/lenetlab/assets"));
}

}  // namespace
