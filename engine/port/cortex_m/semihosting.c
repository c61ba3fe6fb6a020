#include "semihosting.h"

#include <stdint.h>

enum {
  kSysWrite0 = 0x04,
  kSysExitExtended = 0x20,
  kAdpStoppedApplicationExit = 0x20026,
};

// The semihosting ABI: operation in r0, parameter in r1, result in r0.
static uint32_t SemihostCall(uint32_t operation, const void* parameter) {
  register uint32_t r0 __asm__("r0") = operation;
  register const void* r1 __asm__("r1") = parameter;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void SemihostWrite(const char* text) { (void)SemihostCall(kSysWrite0, text); }

void SemihostExit(int code) {
  // SYS_EXIT_EXTENDED (unlike SYS_EXIT on 32-bit ARM) passes the code through.
  const uint32_t block[2] = {kAdpStoppedApplicationExit, (uint32_t)code};
  (void)SemihostCall(kSysExitExtended, block);
  for (;;) {
  }
}
