# `cmake --install build/release --prefix P` and `cpack -G DEB` (run in build/release): the
# lenetlab executable in P/bin, and in P/share/lenetlab what it ships: the architectures and
# bench matrices (experiments/), the sweeps (sweeps/) and the report's chart libraries (assets/).
# An installed lenetlab finds them from its own path (framework/config/search_path.hpp
# installed_data_dir), so no source tree is needed.
include(GNUInstallDirs)

install(TARGETS lenetlab RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set(LENETLAB_DATA_DESTINATION ${CMAKE_INSTALL_DATADIR}/lenetlab)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/experiments/architectures ${PROJECT_SOURCE_DIR}/experiments/bench
        DESTINATION ${LENETLAB_DATA_DESTINATION}/experiments
        FILES_MATCHING PATTERN "*.yaml" PATTERN "*.md")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sweeps/ DESTINATION ${LENETLAB_DATA_DESTINATION}/sweeps
        FILES_MATCHING PATTERN "*.yaml" PATTERN "*.md")
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Vega libraries are not in the repository: `lenetlab report --fetch-assets` (ci/setup.sh)
# fetches and verifies them into the assets cache, from where they are installed. Their checksums
# are checked again whenever a report reads them (report/assets.hpp).
if(DEFINED ENV{LENETLAB_ASSETS_DIR} AND NOT "$ENV{LENETLAB_ASSETS_DIR}" STREQUAL "")
  set(default_assets "$ENV{LENETLAB_ASSETS_DIR}")
elseif(DEFINED ENV{XDG_CACHE_HOME} AND IS_ABSOLUTE "$ENV{XDG_CACHE_HOME}")
  set(default_assets "$ENV{XDG_CACHE_HOME}/lenetlab/assets")
else()
  set(default_assets "$ENV{HOME}/.cache/lenetlab/assets")
endif()
set(LENETLAB_INSTALL_ASSETS_FROM "${default_assets}" CACHE PATH
    "directory holding the report's vega.min.js, vega-lite.min.js, vega-embed.min.js to install")
set(asset_files vega.min.js vega-lite.min.js vega-embed.min.js)
list(TRANSFORM asset_files PREPEND "${LENETLAB_INSTALL_ASSETS_FROM}/")
foreach(file IN LISTS asset_files)
  if(NOT EXISTS "${file}")
    message(STATUS "lenetlab: ${file} missing: the install will have no report assets (run "
                   "`lenetlab report --fetch-assets` before installing)")
  endif()
endforeach()
install(FILES ${asset_files} DESTINATION ${LENETLAB_DATA_DESTINATION}/assets OPTIONAL)

# cpack -G DEB: the same files; dependencies computed from the executable's shared libraries
# (dpkg-shlibdeps).
set(CPACK_PACKAGE_NAME lenetlab)
set(CPACK_PACKAGE_VENDOR "lenetlab")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Reproducible experiments and benchmarks on LeNet-family CNNs (oneDNN, SQLite results)")
set(CPACK_PACKAGE_CONTACT "lenetlab maintainers <lenetlab@localhost>")
set(CPACK_PACKAGE_INSTALL_DIRECTORY lenetlab)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
include(CPack)
