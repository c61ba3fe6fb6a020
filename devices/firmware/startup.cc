// Reset and exception handlers and the vector table of the runner firmware.
// Compiled with -fno-tree-loop-distribute-patterns so the .data copy and the
// .bss clear stay loops instead of becoming memcpy/memset calls. No
// semihosting: the firmware must run on boards without a debugger console,
// and a semihosting trap without one locks the core. Symbols come from
// runner_sections.ld.
#include <stdint.h>

#include "runner.h"
#include "timer.h"

extern "C" {
extern uint32_t __data_load__[];
extern uint32_t __data_start__[];
extern uint32_t __data_end__[];
extern uint32_t __bss_start__[];
extern uint32_t __bss_end__[];
extern uint32_t __stack_top__[];
extern void (*__init_array_start__[])(void);
extern void (*__init_array_end__[])(void);
}

int main();

namespace {

// Coprocessor access control: CP10 and CP11 (the FPU) full access.
#define MCUNAS_SCB_CPACR (*reinterpret_cast<volatile uint32_t*>(0xE000ED88u))

}  // namespace

extern "C" {

void McunasResetHandler(void) {
  // Code built with -mfloat-abi=hard may touch FP registers anywhere, so the
  // FPU is on before any other C code runs.
  MCUNAS_SCB_CPACR = MCUNAS_SCB_CPACR | (0xFu << 20);
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  const uint32_t* from = __data_load__;
  for (uint32_t* to = __data_start__; to < __data_end__;) *to++ = *from++;
  for (uint32_t* to = __bss_start__; to < __bss_end__;) *to++ = 0;
  for (void (**ctor)(void) = __init_array_start__; ctor < __init_array_end__;
       ++ctor) {
    (*ctor)();
  }
  main();
  for (;;) {
  }
}

// Every fault lands here: pass the stacked frame (main or process stack,
// per EXC_RETURN bit 2) and the exception number to McunasRunnerFault.
__attribute__((naked)) void McunasFaultHandler(void) {
  __asm__ volatile(
      "tst lr, #4\n\t"
      "ite eq\n\t"
      "mrseq r0, msp\n\t"
      "mrsne r0, psp\n\t"
      "mrs r1, ipsr\n\t"
      "b McunasRunnerFault\n\t");
}

}  // extern "C"

namespace {

using Handler = void (*)(void);

// The 16 system vectors of ARMv7-M / ARMv8-M Mainline. Only SysTick is
// enabled, so no device vectors follow. The linker script places this first
// in the code region, where VTOR points at reset.
__attribute__((section(".vectors"), used)) const Handler kVectorTable[16] = {
    reinterpret_cast<Handler>(__stack_top__),
    McunasResetHandler,
    McunasFaultHandler,  // NMI
    McunasFaultHandler,  // HardFault
    McunasFaultHandler,  // MemManage
    McunasFaultHandler,  // BusFault
    McunasFaultHandler,  // UsageFault
    McunasFaultHandler,  // SecureFault (ARMv8-M; reserved on M4/M7)
    nullptr,
    nullptr,
    nullptr,
    McunasFaultHandler,  // SVCall
    McunasFaultHandler,  // DebugMonitor
    nullptr,
    McunasFaultHandler,  // PendSV
    McunasSysTickHandler,
};

}  // namespace
