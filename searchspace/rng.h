// Private to searchspace. The strategies' random numbers: std::mt19937_64
// (whose output sequence the C++ standard fixes) with our own mappings to
// ranges and distributions, because std::uniform_*_distribution differ
// between standard libraries and a saved search must resume identically
// anywhere. State is saved as the engine's standard text form. Not
// thread-safe.
#ifndef MCUNAS_SEARCHSPACE_RNG_H_
#define MCUNAS_SEARCHSPACE_RNG_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mcunas::searchspace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  uint64_t Next() { return engine_(); }
  // Uniform in [0, n). REQUIRES: n > 0. Rejection sampling, so exactly
  // uniform.
  int32_t Below(int32_t n) {
    return static_cast<int32_t>(Below64(static_cast<uint64_t>(n)));
  }
  uint64_t Below64(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = engine_();
    } while (x >= limit);
    return x % n;
  }
  // Uniform in [0, 1), 53 random bits.
  double Uniform() { return (engine_() >> 11) * (1.0 / 9007199254740992.0); }
  bool Bernoulli(double p) { return Uniform() < p; }

  std::string Save() const {
    std::ostringstream out;
    out << engine_;
    return out.str();
  }
  absl::Status Restore(absl::string_view state) {
    std::istringstream in{std::string(state)};
    std::mt19937_64 engine;
    in >> engine;
    if (in.fail()) return absl::InvalidArgumentError("bad random state");
    engine_ = engine;
    return absl::OkStatus();
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace mcunas::searchspace

#endif  // MCUNAS_SEARCHSPACE_RNG_H_
