#include "mcunas/engine/model.h"

namespace mcunas::engine {

uint32_t Crc32(const uint8_t* data, uint32_t size) {
  // Bitwise CRC-32 (polynomial 0xEDB88320, reflected). No lookup table, so it
  // costs no flash; loading a model is not on the inference path.
  uint32_t crc = 0xFFFFFFFFu;
  for (uint32_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  }
  return ~crc;
}

}  // namespace mcunas::engine
