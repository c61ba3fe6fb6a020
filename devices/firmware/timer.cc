#include "timer.h"

#include <stdint.h>

namespace mcunas::devices::firmware {
namespace {

// System control space registers (ARMv7-M / ARMv8-M Mainline).
#define MCUNAS_REG(address) (*reinterpret_cast<volatile uint32_t*>(address))
#define SYST_CSR MCUNAS_REG(0xE000E010u)
#define SYST_RVR MCUNAS_REG(0xE000E014u)
#define SYST_CVR MCUNAS_REG(0xE000E018u)
#define SCB_ICSR MCUNAS_REG(0xE000ED04u)
#define DEMCR MCUNAS_REG(0xE000EDFCu)
#define DWT_CTRL MCUNAS_REG(0xE0001000u)
#define DWT_CYCCNT MCUNAS_REG(0xE0001004u)
#define DWT_LAR MCUNAS_REG(0xE0001FB0u)

constexpr uint32_t kSysTickEnable = 1u << 0;
constexpr uint32_t kSysTickInterrupt = 1u << 1;
constexpr uint32_t kSysTickCoreClock = 1u << 2;
constexpr uint32_t kSysTickReload = 0x00FFFFFFu;  // the full 24 bits
constexpr uint32_t kIcsrPendSysTick = 1u << 26;
constexpr uint32_t kDemcrTraceEnable = 1u << 24;
constexpr uint32_t kDwtNoCycleCounter = 1u << 25;
constexpr uint32_t kDwtCycleCounterEnable = 1u << 0;
// CoreSight lock access key; some Cortex-M7 parts keep the DWT locked.
constexpr uint32_t kCoreSightUnlock = 0xC5ACCE55u;

runner::Timer g_timer = runner::Timer::kNone;
volatile uint32_t g_systick_wraps = 0;
// Software extension of the 32-bit DWT counter.
uint32_t g_dwt_last = 0;
uint32_t g_dwt_high = 0;

bool ProbeDwt() {
  DEMCR = DEMCR | kDemcrTraceEnable;
  DWT_LAR = kCoreSightUnlock;
  if ((DWT_CTRL & kDwtNoCycleCounter) != 0) return false;
  DWT_CYCCNT = 0;
  DWT_CTRL = DWT_CTRL | kDwtCycleCounterEnable;
  // A modelled-but-frozen counter (QEMU reads 0) does not advance.
  for (volatile int i = 0; i < 16; i = i + 1) {
  }
  return DWT_CYCCNT != 0;
}

uint32_t DisableInterrupts() {
  uint32_t primask;
  __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
  return primask;
}

void RestoreInterrupts(uint32_t primask) {
  __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
}

uint64_t SysTickNow() {
  // With interrupts masked the wrap count cannot change under us; a wrap that
  // has happened but not been counted shows as a pending SysTick. 0 is
  // skipped: it is the last tick of a period, and whether the wrap is pended
  // there or at the reload differs between implementations.
  const uint32_t primask = DisableInterrupts();
  uint32_t value;
  bool pending;
  for (;;) {
    const bool pending_before = (SCB_ICSR & kIcsrPendSysTick) != 0;
    value = SYST_CVR;
    pending = (SCB_ICSR & kIcsrPendSysTick) != 0;
    if (pending == pending_before && value != 0) break;
  }
  const uint64_t wraps = g_systick_wraps + (pending ? 1u : 0u);
  RestoreInterrupts(primask);
  return (wraps << 24) + (kSysTickReload - value);
}

uint64_t DwtNow() {
  const uint32_t now = DWT_CYCCNT;
  if (now < g_dwt_last) ++g_dwt_high;
  g_dwt_last = now;
  return (static_cast<uint64_t>(g_dwt_high) << 32) | now;
}

}  // namespace

runner::Timer TimerInit() {
  g_timer = ProbeDwt() ? runner::Timer::kDwtCycles : runner::Timer::kSysTick;
  return g_timer;
}

void TimerArm() {
  if (g_timer == runner::Timer::kDwtCycles) {
    DWT_CYCCNT = 0;
    g_dwt_last = 0;
    g_dwt_high = 0;
    return;
  }
  SYST_CSR = 0;
  SYST_RVR = kSysTickReload;
  SYST_CVR = 0;  // any write clears the count and COUNTFLAG
  SCB_ICSR = 1u << 25;  // PENDSTCLR: drop a wrap left pending from before
  g_systick_wraps = 0;
  SYST_CSR = kSysTickCoreClock | kSysTickInterrupt | kSysTickEnable;
}

uint64_t TimerNow() {
  return g_timer == runner::Timer::kDwtCycles ? DwtNow() : SysTickNow();
}

}  // namespace mcunas::devices::firmware

extern "C" void McunasSysTickHandler(void) {
  mcunas::devices::firmware::g_systick_wraps =
      mcunas::devices::firmware::g_systick_wraps + 1;
}
