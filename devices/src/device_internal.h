// Helpers shared by the Device implementations. Private to devices/.
// Thread-safe.
#ifndef MCUNAS_DEVICES_SRC_DEVICE_INTERNAL_H_
#define MCUNAS_DEVICES_SRC_DEVICE_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "mcunas/engine/model.h"
#include "spdlog/spdlog.h"

namespace mcunas::devices {

// The "devices" logger (created on first use).
std::shared_ptr<spdlog::logger> DevicesLogger();

// InvalidArgument unless `inputs` has exactly the model's input bytes (all
// inputs, back to back).
absl::Status CheckInputBytes(const engine::Model& model,
                             const std::vector<int8_t>& inputs);

// Whether a board error means the board must be restarted: it hung
// (DeadlineExceeded), its server or emulator went away (Unavailable), or the
// firmware faulted or stopped somewhere unexpected (Internal).
bool NeedsRestart(const absl::Status& status);

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_SRC_DEVICE_INTERNAL_H_
