// Tick counting for the runner firmware: DWT->CYCCNT where the core has a
// working one (real Cortex-M4/M7/M33 silicon), SysTick on the core clock
// otherwise (QEMU 7.2 does not model the DWT; with -icount SysTick then counts
// emulated instructions, see /work/shared/HIL.md). Single-threaded firmware
// code; TimerNow() may be called with interrupts enabled or not.
#ifndef MCUNAS_DEVICES_FIRMWARE_TIMER_H_
#define MCUNAS_DEVICES_FIRMWARE_TIMER_H_

#include <stdint.h>

#include "mcunas/devices/runner_protocol.h"

namespace mcunas::devices::firmware {

// Probes for a counting DWT cycle counter and enables it; else configures
// SysTick. Call once at boot. Returns what TimerNow() counts.
runner::Timer TimerInit();

// Restarts the count from (about) zero. Call at the start of each
// measurement: it keeps repeated measurements identical and drops the clock
// jump of the time the debugger held the core.
void TimerArm();

// Ticks since TimerArm(), extended to 64 bits (SysTick wraps every 2^24
// ticks and its interrupt counts the wraps; DWT wraps every 2^32 and is
// extended in software, so two calls must be less than 2^32 cycles apart).
uint64_t TimerNow();

}  // namespace mcunas::devices::firmware

// The SysTick exception handler (counts wraps); in the vector table.
extern "C" void McunasSysTickHandler(void);

#endif  // MCUNAS_DEVICES_FIRMWARE_TIMER_H_
