// A fixed-capacity line of text for semihosting output in test firmware.
// newlib's printf would pull malloc into the image, so numbers are formatted
// here. Text beyond the capacity is dropped. Thread-compatible.
#ifndef MCUNAS_ENGINE_PORT_CORTEX_M_TEXT_LINE_H_
#define MCUNAS_ENGINE_PORT_CORTEX_M_TEXT_LINE_H_

#include <stdint.h>

namespace mcunas::engine::port {

class TextLine {
 public:
  TextLine& Add(const char* text);
  // At most `max_length` characters of `text` (for fixed-size char arrays
  // that may lack a terminating NUL).
  TextLine& Add(const char* text, uint32_t max_length);
  TextLine& Add(uint32_t value);

  // Writes the line and a newline through semihosting, then empties it.
  void Print();

 private:
  static constexpr uint32_t kCapacity = 160;
  char text_[kCapacity + 2];  // room for "\n" and NUL
  uint32_t length_ = 0;
};

}  // namespace mcunas::engine::port

#endif  // MCUNAS_ENGINE_PORT_CORTEX_M_TEXT_LINE_H_
