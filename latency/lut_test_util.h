// Helpers shared by the latency tests: a fresh database path and the
// checked-in board catalogue's profiles.
#ifndef MCUNAS_LATENCY_LUT_TEST_UTIL_H_
#define MCUNAS_LATENCY_LUT_TEST_UTIL_H_

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mcunas/devices/board_catalog.h"

namespace mcunas::latency {

// $TEST_TMPDIR (or /tmp)/mcunas_lut_NAME_PID.db, with any database (and its
// WAL and shared-memory files) of that name removed.
inline std::string FreshDbPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path =
      absl::StrCat(dir != nullptr ? dir : "/tmp", "/mcunas_lut_", name, "_",
                   ::getpid(), ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove((path + suffix).c_str());
  }
  return path;
}

// The profile of board `name` in devices/boards/boards.txt.
inline devices::BoardProfile CatalogProfile(const std::string& name) {
  auto catalog = devices::BoardCatalog::Load(std::string(MCUNAS_SOURCE_DIR) +
                                             "/devices/boards/boards.txt");
  EXPECT_TRUE(catalog.ok()) << catalog.status();
  auto profile = catalog->Find(name);
  EXPECT_TRUE(profile.ok()) << profile.status();
  return *profile;
}

}  // namespace mcunas::latency

#endif  // MCUNAS_LATENCY_LUT_TEST_UTIL_H_
