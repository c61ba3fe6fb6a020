// Reset and fault handlers and the vector table for the bare-metal test
// programs. Compiled with -fno-tree-loop-distribute-patterns so the .data
// copy and .bss clear stay loops instead of becoming memcpy/memset calls
// (which may themselves rely on initialised data). Symbols come from the
// linker scripts beside this file.
#include <stdint.h>

#include "semihosting.h"

extern uint32_t __data_load__[];
extern uint32_t __data_start__[];
extern uint32_t __data_end__[];
extern uint32_t __bss_start__[];
extern uint32_t __bss_end__[];
extern uint32_t __stack_top__[];
extern void (*__init_array_start__[])(void);
extern void (*__init_array_end__[])(void);

int main(void);

// Coprocessor access control: CP10 and CP11 (the FPU) full access.
#define MCUNAS_SCB_CPACR (*(volatile uint32_t*)0xE000ED88u)

void ResetHandler(void) {
  // Code built with -mfloat-abi=hard may touch FP registers anywhere, so the
  // FPU is on before any C code that is not this function runs.
  MCUNAS_SCB_CPACR |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");

  const uint32_t* from = __data_load__;
  for (uint32_t* to = __data_start__; to < __data_end__;) *to++ = *from++;
  for (uint32_t* to = __bss_start__; to < __bss_end__;) *to++ = 0;
  for (void (**ctor)(void) = __init_array_start__; ctor < __init_array_end__;
       ++ctor) {
    (*ctor)();
  }
  SemihostExit(main());
}

static void Fault(const char* name) {
  SemihostWrite("fault: ");
  SemihostWrite(name);
  SemihostWrite("\n");
  SemihostExit(3);
}

static void NmiHandler(void) { Fault("NMI"); }
static void HardFaultHandler(void) { Fault("HardFault"); }
static void MemManageHandler(void) { Fault("MemManage"); }
static void BusFaultHandler(void) { Fault("BusFault"); }
static void UsageFaultHandler(void) { Fault("UsageFault"); }
static void SecureFaultHandler(void) { Fault("SecureFault"); }
static void UnexpectedHandler(void) { Fault("unexpected exception"); }

typedef void (*Handler)(void);

// The 16 system vectors of ARMv7-M / ARMv8-M Mainline. No interrupt is
// enabled, so no device vectors follow. The linker script places this first
// in the code region, where VTOR points at reset.
__attribute__((section(".vectors"), used)) const Handler kVectorTable[16] = {
    (Handler)__stack_top__,
    ResetHandler,
    NmiHandler,
    HardFaultHandler,
    MemManageHandler,
    BusFaultHandler,
    UsageFaultHandler,
    SecureFaultHandler,  // ARMv8-M only; reserved on M4/M7
    0,
    0,
    0,
    UnexpectedHandler,  // SVCall
    UnexpectedHandler,  // DebugMonitor
    0,
    UnexpectedHandler,  // PendSV
    UnexpectedHandler,  // SysTick
};
