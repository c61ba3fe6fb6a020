// Wall-clock latency on a shared or throttled machine drifts: the same model
// can take twice as long a few seconds later. Tables measured in nanoseconds
// are therefore scaled to one reference speed: a fixed reference model is
// timed right before and right after every measurement (one timing between
// two repeats serves both), and the measurement is multiplied by nominal /
// (geometric mean of the two), where `nominal` is the reference's time
// stored with the table when it was first built. Op
// entries, fit models and validation measurements of one table are all in
// "nanoseconds at the table's reference speed", so they add up and compare;
// each stored row keeps its factor (`speed`), so the raw time is
// median / speed.
//
// Counted units (emulated instructions, cycles) do not drift and are never
// scaled.
//
//   MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<SpeedReference> reference,
//                           SpeedReference::ForTable(store, key, device));
//   MCUNAS_ASSIGN_OR_RETURN(std::vector<double> factors,
//       reference->FactorsAround(device, 5, [&](int32_t repeat) {
//         return MeasureSomething(device);  // times of repeat r are
//       }));                                // multiplied by factors[r]
//
// Not thread-safe (uses the device from the calling thread).
#ifndef MCUNAS_LATENCY_SPEED_REFERENCE_H_
#define MCUNAS_LATENCY_SPEED_REFERENCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mcunas/devices/device.h"
#include "mcunas/latency/lut_store.h"

namespace mcunas::latency {

// Whether `board`'s measurements are scaled to a reference speed (its
// latency unit is wall-clock time).
bool UsesSpeedReference(const devices::BoardProfile& board);

class SpeedReference {
 public:
  // The reference model: a fixed mid-sized architecture of the built-in
  // fashion_mnist space, int8 weights and inputs from a fixed seed.
  // Loads `key`'s baseline from `store`, or — for a table with nothing
  // measured yet — times the reference and stores it. FailedPrecondition
  // for a table holding measurements taken without a reference (an older
  // mcunas) or with another reference model: they cannot be mixed.
  static absl::StatusOr<std::unique_ptr<SpeedReference>> ForTable(
      LutStore& store, const LutKey& key, devices::Device& device);

  // The reference's time when the table was started, in the board's unit.
  double nominal() const { return nominal_; }
  // "r28-w0.5:...@<blob hash>": the model's architecture and bytes.
  const std::string& id() const { return id_; }

  // The reference's median time now (one warm-up run, then 5).
  absl::StatusOr<double> Time(devices::Device& device) const;

  // Runs measure(0) ... measure(repeats - 1) with a reference timing
  // before the first and after each, and returns per repeat nominal /
  // geometric mean of the timings around it: what the times repeat r
  // measured are multiplied by. Stops at the first error.
  absl::StatusOr<std::vector<double>> FactorsAround(
      devices::Device& device, int32_t repeats,
      const std::function<absl::Status(int32_t)>& measure) const;

 private:
  SpeedReference() = default;

  std::string id_;
  std::vector<uint8_t> blob_;
  std::vector<int8_t> inputs_;
  double nominal_ = 0;
};

}  // namespace mcunas::latency

#endif  // MCUNAS_LATENCY_SPEED_REFERENCE_H_
