// ARM semihosting calls for bare-metal test programs: text to the debugger's
// console and an exit code for the host (QEMU with
// -semihosting-config enable=on,target=native prints to its stderr and exits
// with the code). Each call is a BKPT 0xAB trap, so without a debugger or
// QEMU's semihosting the core stops there: use in test firmware only.
// C linkage so the C startup code can report faults. Not reentrant.
#ifndef MCUNAS_ENGINE_PORT_CORTEX_M_SEMIHOSTING_H_
#define MCUNAS_ENGINE_PORT_CORTEX_M_SEMIHOSTING_H_

#ifdef __cplusplus
extern "C" {
#endif

// Writes the NUL-terminated `text` (SYS_WRITE0).
void SemihostWrite(const char* text);

// Ends the program with `code` as the host's exit status
// (SYS_EXIT_EXTENDED, ADP_Stopped_ApplicationExit).
__attribute__((noreturn)) void SemihostExit(int code);

#ifdef __cplusplus
}
#endif

#endif  // MCUNAS_ENGINE_PORT_CORTEX_M_SEMIHOSTING_H_
