#include "mcunas/devices/firmware_id.h"

#include <cstdint>

#include "absl/strings/str_format.h"
#include "elf_image.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/devices/device.h"

namespace mcunas::devices {
namespace {

// FNV-1a 64, fed incrementally.
class Fnv1a64 {
 public:
  void Add(const uint8_t* data, size_t size) {
    for (size_t i = 0; i < size; ++i) {
      hash_ ^= data[i];
      hash_ *= 1099511628211ull;
    }
  }
  void Add(uint32_t word) {
    const uint8_t bytes[4] = {
        static_cast<uint8_t>(word), static_cast<uint8_t>(word >> 8),
        static_cast<uint8_t>(word >> 16), static_cast<uint8_t>(word >> 24)};
    Add(bytes, sizeof(bytes));
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 1469598103934665603ull;
};

}  // namespace

absl::StatusOr<std::string> FirmwareId(
    const BoardProfile& board, const std::vector<std::string>& firmware_dirs) {
  MCUNAS_ASSIGN_OR_RETURN(
      const std::string path,
      FindFirmware(board, firmware_dirs.empty() ? DefaultFirmwareDirs()
                                                : firmware_dirs));
  MCUNAS_ASSIGN_OR_RETURN(const ElfImage image, ElfImage::Read(path));
  Fnv1a64 hash;
  hash.Add(image.entry());
  for (const ElfSegment& segment : image.segments()) {
    hash.Add(segment.address);
    hash.Add(static_cast<uint32_t>(segment.data.size()));
    hash.Add(segment.data.data(), segment.data.size());
  }
  return absl::StrFormat("%s-%016x", board.firmware, hash.value());
}

}  // namespace mcunas::devices
