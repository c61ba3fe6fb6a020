// Writes valid model blobs (the test graphs with several shapes) into a
// folder, as the fuzzer's seed corpus. Usage: make_fuzz_seeds DIR
#include <fstream>
#include <iostream>
#include <string>

#include "mcunas/engine/host/model_writer.h"
#include "test_graphs.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_fuzz_seeds DIR\n";
    return 2;
  }
  using namespace mcunas::engine;
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    testing::TinyGraphOptions options;
    options.resolution = 5 + static_cast<int32_t>(seed);
    options.width = 2 + static_cast<int32_t>(seed % 4);
    options.kernel = 3 + 2 * static_cast<int32_t>(seed % 3);
    options.expand = 1 + static_cast<int32_t>(seed % 3);
    auto blob = WriteModel(testing::TinyMbv2Graph(seed, options));
    if (!blob.ok()) {
      std::cerr << blob.status() << "\n";
      return 1;
    }
    const std::string path =
        std::string(argv[1]) + "/tiny" + std::to_string(seed) + ".mcunas";
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(blob->data()), blob->size());
    if (!out) {
      std::cerr << "cannot write " << path << "\n";
      return 1;
    }
  }
  return 0;
}
