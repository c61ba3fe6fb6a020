// One interface over every place a model can be measured: the host engine
// in process, an emulated Cortex-M board (QEMU), or a real board behind
// OpenOCD. A Device runs a model blob on given inputs N times and returns
// the outputs and each run's latency in the board's own unit (wall-clock ns,
// emulated instructions, or cycles: see LatencyUnit; always show the unit).
//
//   MCUNAS_ASSIGN_OR_RETURN(BoardCatalog catalog,
//                           BoardCatalog::Load(DefaultCatalogPath()));
//   MCUNAS_ASSIGN_OR_RETURN(BoardProfile board, catalog.Find("qemu-m4"));
//   MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<Device> device,
//                           OpenDevice(board, DeviceOptions{}));
//   MCUNAS_RETURN_IF_ERROR(device->Prepare());  // firmware loaded once
//   RunOptions options;
//   options.runs = 3;
//   MCUNAS_ASSIGN_OR_RETURN(RunResult result,
//                           device->Run(blob, input, options));
//
// Boards keep their firmware between runs; a board that hangs (no result
// within RunOptions::timeout) or crashes (the emulator or the debug server
// dies, or the firmware faults) is restarted before Run returns its error
// (DeadlineExceeded, Unavailable or Internal), so the next Run can succeed.
// A model over the board's SRAM or flash budget is refused with
// ResourceExhausted: "model needs N B of SRAM, board B has M B (over by K B)".
//
// A Device is not thread-safe: one caller at a time (a worker owns each
// board). Different Devices may be used from different threads.
#ifndef MCUNAS_DEVICES_DEVICE_H_
#define MCUNAS_DEVICES_DEVICE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mcunas/devices/board_catalog.h"
#include "mcunas/engine/model.h"

namespace mcunas::devices {

struct RunOptions {
  int32_t warmup = 0;  // unmeasured runs first (the host device needs some)
  int32_t runs = 1;    // measured runs, >= 1
  // Longest a single run may take on a board before it counts as hung.
  absl::Duration timeout = absl::Seconds(30);
  // Run with the engine's reference kernels instead of the optimised ones.
  bool reference_kernels = false;
};

struct LatencyStats {
  int32_t n = 0;
  double median = 0;
  double min = 0;
  double max = 0;
  // Interquartile range (p75 - p25), in the same unit.
  double spread = 0;
};

// Median, extremes and interquartile range of `samples` (linear
// interpolation between order statistics). All zero when empty.
LatencyStats Summarize(std::vector<double> samples);

struct RunResult {
  std::vector<int8_t> outputs;  // every model output, back to back
  LatencyUnit unit = LatencyUnit::kNanoseconds;
  std::vector<double> latencies;  // one per measured run, in `unit`
  LatencyStats stats;
};

struct DeviceOptions {
  // Where the runner firmware ELFs are looked for (BoardProfile::firmware);
  // empty: DefaultFirmwareDirs().
  std::vector<std::string> firmware_dirs;
  // OpenOCD boards: overrides BoardProfile::adapter_serial.
  std::string adapter_serial;
  // Starting the emulator or debug server and booting the firmware.
  absl::Duration boot_timeout = absl::Seconds(20);
  // OpenOCD boards: the gdb and tcl ports (bound to 127.0.0.1).
  int32_t gdb_port = 3333;
  int32_t tcl_port = 6666;
};

class Device {
 public:
  virtual ~Device() = default;

  virtual const BoardProfile& profile() const = 0;

  // Starts the board and loads its firmware, once; later calls return at
  // once while the board is healthy. Run calls it when needed.
  virtual absl::Status Prepare() = 0;

  // Runs the model blob `blob` on `inputs` (every model input, back to back;
  // exactly the model's input bytes) options.warmup + options.runs times.
  // Outputs are those of the last run. InvalidArgument for a blob that does
  // not load or inputs of the wrong size; ResourceExhausted for a model over
  // a budget; see the file comment for hangs and crashes.
  virtual absl::StatusOr<RunResult> Run(const std::vector<uint8_t>& blob,
                                        const std::vector<int8_t>& inputs,
                                        const RunOptions& options) = 0;

  // One run that times every op: latency per op, in profile().latency_unit,
  // indexed like the model's ops. The sum may differ slightly from a whole
  // run's latency (timing each op costs a little).
  virtual absl::StatusOr<std::vector<double>> ProfileOps(
      const std::vector<uint8_t>& blob, const std::vector<int8_t>& inputs,
      const RunOptions& options) = 0;

  // OK when the board answers; Unavailable otherwise.
  virtual absl::Status Health() = 0;

  // Restarts the board (emulator or debug server and firmware).
  virtual absl::Status Reset() = 0;
};

// The device for `board`. Does not start it (see Device::Prepare).
absl::StatusOr<std::unique_ptr<Device>> OpenDevice(
    const BoardProfile& board, const DeviceOptions& options);

// ResourceExhausted when `model` needs more SRAM (planned arena) or flash
// (blob bytes) than `board` allows, naming both figures and the excess.
absl::Status CheckBudgets(const BoardProfile& board, const engine::Model& model);

// The firmware search path compiled into this build: the runner output
// directories of the cross builds (build-m4, build-m7, build-m33 under the
// source tree unless configured otherwise with MCUNAS_FIRMWARE_DIRS), or
// $MCUNAS_FIRMWARE_DIR when set.
std::vector<std::string> DefaultFirmwareDirs();

// The path of `board`'s firmware ELF in `dirs` (the first that has it), or
// NotFound naming where it looked and how to build it.
absl::StatusOr<std::string> FindFirmware(const BoardProfile& board,
                                         const std::vector<std::string>& dirs);

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_DEVICE_H_
