// A client for the GDB remote serial protocol (RSP), as served by QEMU's
// gdbstub (`-gdb`) and by OpenOCD's gdb port: one client drives emulated and
// real boards. It speaks only what both servers support (HIL.md): ack mode,
// `m`/`M` memory access (`M` carries hex, so a write packet holds about half
// the server's PacketSize in data), `p`/`P` registers, `Z0`/`Z1`
// breakpoints, `Z2`-`Z4` watchpoints, `c`/`s` with a timeout and the 0x03
// interrupt, `qRcmd` monitor commands, and target.xml through
// `qXfer:features:read` (which QEMU requires before it accepts `P`).
// Requests can be pipelined (RspBatch) on servers that allow it.
//
//   MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<RspClient> gdb,
//                           RspClient::Connect("unix:/tmp/qemu.sock", 2s));
//   MCUNAS_RETURN_IF_ERROR(gdb->Handshake());
//   MCUNAS_RETURN_IF_ERROR(gdb->InsertBreakpoint(BreakpointType::kSoftware,
//                                                halt_address));
//   MCUNAS_ASSIGN_OR_RETURN(StopReply stop, gdb->Continue(absl::Seconds(5)));
//
// Errors: a closed connection is Unavailable (the server or the board died);
// a continue that does not stop in time is DeadlineExceeded (the core was
// interrupted first, if it would stop); an `E NN` reply is Internal with
// the request named. Not thread-safe: one caller at a time.
#ifndef MCUNAS_DEVICES_RSP_CLIENT_H_
#define MCUNAS_DEVICES_RSP_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace mcunas::devices {

enum class BreakpointType {
  kSoftware = 0,  // Z0: code in RAM, or anywhere on QEMU
  kHardware = 1,  // Z1: code in flash on real boards
};

// Z2/Z3/Z4. QEMU stops *before* the watched access on Arm cores (the core
// re-executes it when resumed, and stops again unless the watchpoint was
// removed first).
enum class WatchpointType {
  kWrite = 2,
  kRead = 3,
  kAccess = 4,
};

// Why the target stopped, from a `T`/`S` (stopped), `W` (exited) or `X`
// (killed) reply.
struct StopReply {
  char kind = 'S';
  int signal = 0;   // 5 = SIGTRAP (breakpoint, step), 2 = SIGINT (interrupt)
  // A watchpoint stop (`watch:`, `rwatch:` or `awatch:` in a `T` reply):
  // the watchpoint's address.
  bool watchpoint = false;
  uint32_t watch_address = 0;
  std::string raw;  // the whole reply, for messages
};

// Requests for RspClient::Pipeline, kept in order. Reads are numbered from 0
// in the order they were added; Pipeline returns their bytes by that
// number. A plain value; not thread-safe.
class RspBatch {
 public:
  void WriteMemory(uint32_t address, absl::Span<const uint8_t> data);
  // Returns the read's number.
  size_t ReadMemory(uint32_t address, uint32_t length);
  void InsertWatchpoint(WatchpointType type, uint32_t address,
                        uint32_t length);
  void RemoveWatchpoint(WatchpointType type, uint32_t address,
                        uint32_t length);
  void InsertBreakpoint(BreakpointType type, uint32_t address);
  void RemoveBreakpoint(BreakpointType type, uint32_t address);

 private:
  friend class RspClient;
  struct Request {
    enum class Kind { kWrite, kRead, kOk };
    Kind kind = Kind::kOk;
    uint32_t address = 0;
    uint32_t length = 0;       // kRead: bytes wanted
    std::vector<uint8_t> data;  // kWrite
    std::string payload;        // kOk: the whole request
  };
  std::vector<Request> requests_;
  size_t reads_ = 0;
};

class RspClient {
 public:
  // `address` is "unix:PATH" or "HOST:PORT". Retries until `timeout`, since
  // a server that was just started may not listen yet.
  static absl::StatusOr<std::unique_ptr<RspClient>> Connect(
      const std::string& address, absl::Duration timeout);

  ~RspClient();
  RspClient(const RspClient&) = delete;
  RspClient& operator=(const RspClient&) = delete;

  // qSupported (learns PacketSize), `?`, then target.xml and what it
  // includes. Call once, before anything else.
  absl::Status Handshake();

  // The register numbering from target.xml: "sp", "pc", "xpsr", "r0" ...
  // NotFound when the target has no such register.
  absl::StatusOr<int> RegisterNumber(absl::string_view name) const;
  const std::string& target_xml() const { return target_xml_; }

  absl::StatusOr<std::vector<uint8_t>> ReadMemory(uint32_t address,
                                                  uint32_t length);
  absl::Status WriteMemory(uint32_t address, absl::Span<const uint8_t> data);
  // A NUL-terminated string of at most `max_length` bytes.
  absl::StatusOr<std::string> ReadString(uint32_t address,
                                         uint32_t max_length);

  absl::StatusOr<uint32_t> ReadRegister(int number);
  absl::Status WriteRegister(int number, uint32_t value);

  absl::Status InsertBreakpoint(BreakpointType type, uint32_t address);
  absl::Status RemoveBreakpoint(BreakpointType type, uint32_t address);
  absl::Status InsertWatchpoint(WatchpointType type, uint32_t address,
                                uint32_t length);
  absl::Status RemoveWatchpoint(WatchpointType type, uint32_t address,
                                uint32_t length);

  // Sends every request of `batch`, then `c` if `continue_timeout` is set,
  // and returns the bytes of the batch's reads (by read number) and the
  // stop (default-constructed without `c`). With pipelining on, they all go
  // in one write and the replies are read afterwards, so the batch costs
  // one round trip instead of one per packet; otherwise one at a time. An
  // error reply fails the call, but only after every reply (and the stop)
  // was read, so the connection stays in step. Timeouts as in Continue.
  struct PipelineResult {
    std::vector<std::vector<uint8_t>> reads;
    StopReply stop;
  };
  absl::StatusOr<PipelineResult> Pipeline(
      const RspBatch& batch,
      std::optional<absl::Duration> continue_timeout = std::nullopt);

  // Whether Pipeline may send requests back to back without waiting for
  // each reply. Only for a server that answers in order and needs no ack
  // before the next packet: QEMU's gdbstub (system mode). OpenOCD waits for
  // each ack and logs every one that is missing. Off by default.
  void set_pipelining(bool on) { pipelining_ = on; }

  // Resumes the core and waits for it to stop. When `timeout` passes first,
  // sends the interrupt byte, waits briefly for the stop that follows, and
  // returns DeadlineExceeded either way.
  absl::StatusOr<StopReply> Continue(absl::Duration timeout);
  absl::StatusOr<StopReply> Step();

  // `qRcmd`: a monitor command ("system_reset" on QEMU, "reset halt" on
  // OpenOCD). Returns the text the server printed (its `O` packets).
  absl::StatusOr<std::string> Monitor(absl::string_view command,
                                      absl::Duration timeout);

  // `k`: ends the session (QEMU exits). The connection is closed after it.
  void Kill();

  // Time allowed for each reply other than Continue's (default 5 s).
  void set_reply_timeout(absl::Duration timeout) { reply_timeout_ = timeout; }
  // Bytes of memory per `m`/`M` packet, from the server's PacketSize.
  uint32_t max_memory_chunk() const { return max_memory_chunk_; }

 private:
  explicit RspClient(int fd) : fd_(fd) {}

  absl::Status SendRaw(absl::string_view bytes);
  absl::Status SendPacket(absl::string_view payload);
  // The next packet's payload, skipping stray acks; `deadline` bounds the
  // wait. Acks it unless `ack` is false: replies to a pipelined batch that
  // ends in `c` arrive while the core runs, and QEMU stops a running core on
  // any byte it receives.
  absl::StatusOr<std::string> ReceivePacket(absl::Time deadline,
                                            bool ack = true);
  // Sends a request and returns its reply; an `E NN` reply is an error that
  // names `what`.
  absl::StatusOr<std::string> Request(absl::string_view payload,
                                      absl::string_view what);
  absl::Status RequestOk(absl::string_view payload, absl::string_view what);
  // Waits for a stop reply, passing over `O` console packets.
  absl::StatusOr<StopReply> WaitForStop(absl::Time deadline);
  // After `c` was sent: waits up to `timeout` for the stop, interrupting the
  // core when it does not come (see Continue).
  absl::StatusOr<StopReply> AwaitStop(absl::Duration timeout);
  // The reply to a request sent earlier; an `E NN` reply is an error that
  // names `what`.
  absl::StatusOr<std::string> ReceiveReply(absl::string_view what, bool ack);
  absl::StatusOr<std::string> ReadFeature(const std::string& annex);
  absl::Status LoadTargetDescription();
  // Reads more bytes into buffer_; Unavailable when the peer closed,
  // DeadlineExceeded when `deadline` passed.
  absl::Status Fill(absl::Time deadline);
  void Close();

  int fd_ = -1;
  std::string buffer_;  // received, not yet consumed
  std::string last_sent_;
  absl::Duration reply_timeout_ = absl::Seconds(5);
  uint32_t max_memory_chunk_ = 1024;
  bool pipelining_ = false;
  std::string target_xml_;
  std::vector<std::pair<std::string, int>> registers_;
};

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_RSP_CLIENT_H_
