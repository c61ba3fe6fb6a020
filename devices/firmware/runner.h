// The runner firmware's shared symbols: the mailbox the host reads and
// writes, and the halt function the host breaks on. Both have C linkage so
// their ELF symbol names are exactly runner::kMailboxSymbol and
// runner::kHaltSymbol. Single-threaded firmware; the host touches the mailbox
// only while the core is halted.
#ifndef MCUNAS_DEVICES_FIRMWARE_RUNNER_H_
#define MCUNAS_DEVICES_FIRMWARE_RUNNER_H_

#include "mcunas/devices/runner_protocol.h"

extern "C" {

// In its own NOLOAD RAM section, so neither the ELF load nor the startup code
// writes it.
extern volatile mcunas::devices::runner::Mailbox g_mcunas_mailbox;

// Where the firmware waits for the host: the host keeps a breakpoint on its
// first (and only) instruction, `bx lr`, and resumes the core by setting pc
// to lr, which is what that instruction would do. Inserting and removing
// breakpoints makes QEMU flush all translated code, so the breakpoint stays
// put for the whole session. Returning means "the host wrote a new command".
void McunasRunnerHalt(void);

// Records a fault (called by the fault handlers with the stacked exception
// frame) and halts for good: the host sees Result::kFault and restarts the
// board.
__attribute__((noreturn)) void McunasRunnerFault(const uint32_t* frame,
                                                 uint32_t exception);

}  // extern "C"

#endif  // MCUNAS_DEVICES_FIRMWARE_RUNNER_H_
