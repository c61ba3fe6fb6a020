#include "text_line.h"

#include <stdint.h>

#include "semihosting.h"

namespace mcunas::engine::port {

TextLine& TextLine::Add(const char* text) { return Add(text, UINT32_MAX); }

TextLine& TextLine::Add(const char* text, uint32_t max_length) {
  for (uint32_t i = 0; i < max_length && text[i] != '\0'; ++i) {
    if (length_ == kCapacity) break;
    text_[length_++] = text[i];
  }
  return *this;
}

TextLine& TextLine::Add(uint32_t value) {
  char digits[10];
  uint32_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (count > 0 && length_ < kCapacity) text_[length_++] = digits[--count];
  return *this;
}

void TextLine::Print() {
  text_[length_] = '\n';
  text_[length_ + 1] = '\0';
  SemihostWrite(text_);
  length_ = 0;
}

}  // namespace mcunas::engine::port
