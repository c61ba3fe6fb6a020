#include "mcunas/devices/rsp_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "mcunas/common/status_macros.h"
#include "rsp_packet.h"

namespace mcunas::devices {
namespace {

constexpr char kInterrupt = '\x03';
// How long an interrupted target may take to report its stop.
constexpr absl::Duration kInterruptGrace = absl::Seconds(2);

absl::StatusOr<int> ConnectOnce(const std::string& address) {
  if (absl::StartsWith(address, "unix:")) {
    const std::string path = address.substr(5);
    sockaddr_un sa{};
    if (path.size() >= sizeof(sa.sun_path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("socket path too long: ", path));
    }
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
      const int error = errno;
      close(fd);
      return absl::ErrnoToStatus(error, absl::StrCat("connect ", address));
    }
    return fd;
  }
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RSP address '", address, "' is neither unix:PATH nor HOST:PORT"));
  }
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int gai = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (gai != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("resolve ", address, ": ", gai_strerror(gai)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found,
                                                           freeaddrinfo);
  int error = ECONNREFUSED;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                          ai->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      // Small request/reply packets: do not wait to coalesce them.
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      return fd;
    }
    error = errno;
    close(fd);
  }
  return absl::ErrnoToStatus(error, absl::StrCat("connect ", address));
}

// Value of attribute `name` in the XML tag `tag`, or "".
std::string Attribute(absl::string_view tag, absl::string_view name) {
  const std::string key = absl::StrCat(name, "=\"");
  size_t at = tag.find(key);
  while (at != absl::string_view::npos && at > 0 &&
         !std::isspace(static_cast<unsigned char>(tag[at - 1]))) {
    at = tag.find(key, at + 1);
  }
  if (at == absl::string_view::npos) return "";
  const size_t begin = at + key.size();
  const size_t end = tag.find('"', begin);
  if (end == absl::string_view::npos) return "";
  return std::string(tag.substr(begin, end - begin));
}

// Each `<tag_name ...>` element's text from `<` to `>`.
std::vector<absl::string_view> Tags(absl::string_view xml,
                                   absl::string_view tag_name) {
  std::vector<absl::string_view> tags;
  const std::string open = absl::StrCat("<", tag_name);
  for (size_t at = xml.find(open); at != absl::string_view::npos;
       at = xml.find(open, at + 1)) {
    const size_t after = at + open.size();
    if (after < xml.size() && !std::isspace(static_cast<unsigned char>(
                                  xml[after])) &&
        xml[after] != '/' && xml[after] != '>') {
      continue;  // a longer tag name
    }
    const size_t end = xml.find('>', at);
    if (end == absl::string_view::npos) break;
    tags.push_back(xml.substr(at, end - at + 1));
  }
  return tags;
}

absl::StatusOr<StopReply> ParseStop(const std::string& reply) {
  StopReply stop;
  stop.raw = reply;
  if (reply.empty() || std::string("TSWX").find(reply[0]) ==
                           std::string::npos) {
    return absl::InternalError(
        absl::StrCat("expected a stop reply, got '", reply.substr(0, 80), "'"));
  }
  stop.kind = reply[0];
  if (reply.size() >= 3) {
    absl::StatusOr<std::vector<uint8_t>> sig =
        rsp::HexDecode(absl::string_view(reply).substr(1, 2));
    if (sig.ok()) stop.signal = (*sig)[0];
  }
  if (stop.kind == 'T' && reply.size() > 3) {
    // "T05thread:01;rwatch:20000040;": key:value pairs.
    for (absl::string_view pair :
         absl::StrSplit(absl::string_view(reply).substr(3), ';')) {
      const size_t colon = pair.find(':');
      if (colon == absl::string_view::npos) continue;
      const absl::string_view key = pair.substr(0, colon);
      uint32_t address = 0;
      if ((key == "watch" || key == "rwatch" || key == "awatch") &&
          absl::SimpleHexAtoi(pair.substr(colon + 1), &address)) {
        stop.watchpoint = true;
        stop.watch_address = address;
      }
    }
  }
  return stop;
}

std::string PointPayload(char insert_or_remove, int type, uint32_t address,
                         uint32_t kind) {
  return absl::StrFormat("%c%d,%x,%x", insert_or_remove, type, address, kind);
}

}  // namespace

void RspBatch::WriteMemory(uint32_t address, absl::Span<const uint8_t> data) {
  Request request;
  request.kind = Request::Kind::kWrite;
  request.address = address;
  request.data.assign(data.begin(), data.end());
  requests_.push_back(std::move(request));
}

size_t RspBatch::ReadMemory(uint32_t address, uint32_t length) {
  Request request;
  request.kind = Request::Kind::kRead;
  request.address = address;
  request.length = length;
  requests_.push_back(std::move(request));
  return reads_++;
}

void RspBatch::InsertWatchpoint(WatchpointType type, uint32_t address,
                                uint32_t length) {
  Request request;
  request.kind = Request::Kind::kOk;
  request.payload = PointPayload('Z', static_cast<int>(type), address, length);
  requests_.push_back(std::move(request));
}

void RspBatch::RemoveWatchpoint(WatchpointType type, uint32_t address,
                                uint32_t length) {
  Request request;
  request.kind = Request::Kind::kOk;
  request.payload = PointPayload('z', static_cast<int>(type), address, length);
  requests_.push_back(std::move(request));
}

void RspBatch::InsertBreakpoint(BreakpointType type, uint32_t address) {
  Request request;
  request.kind = Request::Kind::kOk;
  // Kind 2: a 16-bit Thumb breakpoint.
  request.payload = PointPayload('Z', static_cast<int>(type), address, 2);
  requests_.push_back(std::move(request));
}

void RspBatch::RemoveBreakpoint(BreakpointType type, uint32_t address) {
  Request request;
  request.kind = Request::Kind::kOk;
  request.payload = PointPayload('z', static_cast<int>(type), address, 2);
  requests_.push_back(std::move(request));
}

absl::StatusOr<std::unique_ptr<RspClient>> RspClient::Connect(
    const std::string& address, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last = absl::DeadlineExceededError("no attempt");
  for (;;) {
    absl::StatusOr<int> fd = ConnectOnce(address);
    if (fd.ok()) return std::unique_ptr<RspClient>(new RspClient(*fd));
    if (absl::IsInvalidArgument(fd.status())) return fd.status();
    last = fd.status();
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::UnavailableError(absl::StrCat("no GDB server at ", address,
                                             " within ",
                                             absl::FormatDuration(timeout),
                                             ": ", last.message()));
}

RspClient::~RspClient() { Close(); }

void RspClient::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

absl::Status RspClient::SendRaw(absl::string_view bytes) {
  if (fd_ < 0) return absl::UnavailableError("GDB connection is closed");
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      Close();
      return absl::UnavailableError(absl::StrCat(
          "GDB connection lost while sending: ", std::strerror(error)));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status RspClient::SendPacket(absl::string_view payload) {
  last_sent_ = rsp::EncodePacket(payload);
  return SendRaw(last_sent_);
}

absl::Status RspClient::Fill(absl::Time deadline) {
  if (fd_ < 0) return absl::UnavailableError("GDB connection is closed");
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("no reply from the GDB server");
    }
    pollfd p{fd_, POLLIN, 0};
    const int timeout_ms = static_cast<int>(
        std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
    const int ready = poll(&p, 1, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, "poll on the GDB connection");
    }
    if (ready == 0) continue;  // re-check the deadline
    char chunk[16384];
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      const int error = errno;
      Close();
      return absl::UnavailableError(absl::StrCat(
          "GDB connection lost: ", std::strerror(error)));
    }
    if (n == 0) {
      Close();
      return absl::UnavailableError(
          "GDB server closed the connection (the board or emulator exited)");
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return absl::OkStatus();
  }
}

absl::StatusOr<std::string> RspClient::ReceivePacket(absl::Time deadline,
                                                     bool ack) {
  for (;;) {
    // Drop acks and anything before the next packet start.
    size_t start = buffer_.find('$');
    if (start == std::string::npos) {
      if (buffer_.find('-') != std::string::npos && !last_sent_.empty()) {
        MCUNAS_RETURN_IF_ERROR(SendRaw(last_sent_));  // a NAK: resend
      }
      buffer_.clear();
      MCUNAS_RETURN_IF_ERROR(Fill(deadline));
      continue;
    }
    const size_t hash = buffer_.find('#', start);
    if (hash == std::string::npos || hash + 2 >= buffer_.size()) {
      MCUNAS_RETURN_IF_ERROR(Fill(deadline));
      continue;
    }
    const std::string body = buffer_.substr(start + 1, hash - start - 1);
    const std::string sum_hex = buffer_.substr(hash + 1, 2);
    buffer_.erase(0, hash + 3);
    absl::StatusOr<std::vector<uint8_t>> sum = rsp::HexDecode(sum_hex);
    if (!sum.ok() || (*sum)[0] != rsp::Checksum(body)) {
      MCUNAS_RETURN_IF_ERROR(SendRaw("-"));
      continue;
    }
    if (ack) MCUNAS_RETURN_IF_ERROR(SendRaw("+"));
    return rsp::DecodeBody(body);
  }
}

absl::StatusOr<std::string> RspClient::Request(absl::string_view payload,
                                               absl::string_view what) {
  MCUNAS_RETURN_IF_ERROR(SendPacket(payload));
  return ReceiveReply(what, /*ack=*/true);
}

absl::StatusOr<std::string> RspClient::ReceiveReply(absl::string_view what,
                                                    bool ack) {
  absl::StatusOr<std::string> reply =
      ReceivePacket(absl::Now() + reply_timeout_, ack);
  if (!reply.ok()) {
    return absl::Status(reply.status().code(),
                        absl::StrCat(what, ": ", reply.status().message()));
  }
  if (reply->size() == 3 && (*reply)[0] == 'E') {
    return absl::InternalError(
        absl::StrCat(what, ": the GDB server replied ", *reply));
  }
  return reply;
}

absl::Status RspClient::RequestOk(absl::string_view payload,
                                  absl::string_view what) {
  MCUNAS_ASSIGN_OR_RETURN(std::string reply, Request(payload, what));
  if (reply != "OK") {
    return absl::InternalError(absl::StrCat(
        what, ": expected OK, got '", reply.substr(0, 80), "'"));
  }
  return absl::OkStatus();
}

absl::Status RspClient::Handshake() {
  MCUNAS_ASSIGN_OR_RETURN(
      std::string supported,
      Request("qSupported:multiprocess-;swbreak+;hwbreak+;xmlRegisters=arm",
              "qSupported"));
  bool features = false;
  for (absl::string_view item : absl::StrSplit(supported, ';')) {
    if (absl::StartsWith(item, "PacketSize=")) {
      uint32_t size = 0;
      if (absl::SimpleHexAtoi(item.substr(11), &size) && size > 64) {
        // "m"/"M" + address, length and separators take < 32 bytes; data
        // travels as two hex digits a byte, whole words only.
        max_memory_chunk_ = std::max<uint32_t>(((size - 32) / 2) & ~3u, 16);
      }
    }
    if (item == "qXfer:features:read+") features = true;
  }
  MCUNAS_ASSIGN_OR_RETURN(std::string halted, Request("?", "halt reason"));
  (void)halted;
  if (!features) {
    return absl::FailedPreconditionError(
        "the GDB server does not offer qXfer:features:read (target.xml)");
  }
  return LoadTargetDescription();
}

absl::StatusOr<std::string> RspClient::ReadFeature(const std::string& annex) {
  std::string document;
  for (;;) {
    MCUNAS_ASSIGN_OR_RETURN(
        std::string chunk,
        Request(absl::StrFormat("qXfer:features:read:%s:%x,%x", annex,
                                document.size(), max_memory_chunk_),
                absl::StrCat("read ", annex)));
    if (chunk.empty() || (chunk[0] != 'l' && chunk[0] != 'm')) {
      return absl::InternalError(absl::StrCat(
          "read ", annex, ": unexpected reply '", chunk.substr(0, 40), "'"));
    }
    document.append(chunk, 1, std::string::npos);
    if (chunk[0] == 'l') return document;
  }
}

absl::Status RspClient::LoadTargetDescription() {
  // Registers are numbered in document order (includes expanded in place),
  // from 0 or from an explicit regnum.
  std::vector<std::string> pending = {"target.xml"};
  int next = 0;
  registers_.clear();
  target_xml_.clear();
  while (!pending.empty()) {
    const std::string annex = pending.front();
    pending.erase(pending.begin());
    MCUNAS_ASSIGN_OR_RETURN(std::string xml, ReadFeature(annex));
    absl::StrAppend(&target_xml_, xml);
    std::vector<std::string> includes;
    // Walk regs and includes in document order.
    size_t at = 0;
    for (;;) {
      const size_t reg = xml.find("<reg", at);
      const size_t inc = xml.find("<xi:include", at);
      if (reg == std::string::npos && inc == std::string::npos) break;
      if (inc < reg) {
        const size_t end = xml.find('>', inc);
        const std::string href =
            Attribute(absl::string_view(xml).substr(inc, end - inc), "href");
        if (!href.empty()) includes.push_back(href);
        at = end == std::string::npos ? xml.size() : end;
        continue;
      }
      const std::vector<absl::string_view> tags =
          Tags(absl::string_view(xml).substr(reg), "reg");
      if (tags.empty() || tags.front().data() != xml.data() + reg) {
        at = reg + 4;
        continue;
      }
      const std::string name = Attribute(tags.front(), "name");
      const std::string regnum = Attribute(tags.front(), "regnum");
      int number = next;
      if (!regnum.empty() && !absl::SimpleAtoi(regnum, &number)) {
        return absl::InternalError(absl::StrCat(
            annex, ": register ", name, " has regnum '", regnum, "'"));
      }
      registers_.emplace_back(name, number);
      next = number + 1;
      at = reg + tags.front().size();
    }
    // Included documents come before what follows them in theory; QEMU and
    // OpenOCD put includes before any register, so appending is the same.
    pending.insert(pending.begin(), includes.begin(), includes.end());
  }
  if (registers_.empty()) {
    return absl::InternalError("target.xml lists no registers");
  }
  return absl::OkStatus();
}

absl::StatusOr<int> RspClient::RegisterNumber(absl::string_view name) const {
  for (const auto& [reg, number] : registers_) {
    if (absl::EqualsIgnoreCase(reg, name)) return number;
  }
  return absl::NotFoundError(
      absl::StrCat("target.xml has no register '", name, "'"));
}

absl::StatusOr<std::vector<uint8_t>> RspClient::ReadMemory(uint32_t address,
                                                           uint32_t length) {
  std::vector<uint8_t> out;
  out.reserve(length);
  while (out.size() < length) {
    const uint32_t at = address + static_cast<uint32_t>(out.size());
    const uint32_t n = std::min<uint32_t>(
        max_memory_chunk_, length - static_cast<uint32_t>(out.size()));
    MCUNAS_ASSIGN_OR_RETURN(
        std::string hex,
        Request(absl::StrFormat("m%x,%x", at, n),
                absl::StrFormat("read %d bytes at 0x%08x", n, at)));
    MCUNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, rsp::HexDecode(hex));
    if (bytes.empty()) {
      return absl::InternalError(
          absl::StrFormat("read at 0x%08x: empty reply", at));
    }
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  out.resize(length);
  return out;
}

absl::Status RspClient::WriteMemory(uint32_t address,
                                    absl::Span<const uint8_t> data) {
  std::string packet;
  for (size_t done = 0; done < data.size();) {
    const uint32_t n =
        std::min<uint32_t>(max_memory_chunk_, data.size() - done);
    const uint32_t at = address + static_cast<uint32_t>(done);
    packet = absl::StrFormat("M%x,%x:", at, n);
    packet += rsp::HexEncode(data.data() + done, n);
    MCUNAS_RETURN_IF_ERROR(
        RequestOk(packet, absl::StrFormat("write %d bytes at 0x%08x", n, at)));
    done += n;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RspClient::ReadString(uint32_t address,
                                                  uint32_t max_length) {
  MCUNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                          ReadMemory(address, max_length));
  std::string text(bytes.begin(), bytes.end());
  const size_t nul = text.find('\0');
  if (nul != std::string::npos) text.resize(nul);
  return text;
}

absl::StatusOr<uint32_t> RspClient::ReadRegister(int number) {
  MCUNAS_ASSIGN_OR_RETURN(
      std::string hex, Request(absl::StrFormat("p%x", number),
                               absl::StrFormat("read register %d", number)));
  return rsp::DecodeRegister32(hex);
}

absl::Status RspClient::WriteRegister(int number, uint32_t value) {
  return RequestOk(
      absl::StrFormat("P%x=%s", number, rsp::EncodeRegister32(value)),
      absl::StrFormat("write register %d", number));
}

absl::Status RspClient::InsertBreakpoint(BreakpointType type,
                                         uint32_t address) {
  // Kind 2: a 16-bit Thumb breakpoint.
  return RequestOk(PointPayload('Z', static_cast<int>(type), address, 2),
                   absl::StrFormat("insert breakpoint at 0x%08x", address));
}

absl::Status RspClient::RemoveBreakpoint(BreakpointType type,
                                         uint32_t address) {
  return RequestOk(PointPayload('z', static_cast<int>(type), address, 2),
                   absl::StrFormat("remove breakpoint at 0x%08x", address));
}

absl::Status RspClient::InsertWatchpoint(WatchpointType type, uint32_t address,
                                         uint32_t length) {
  return RequestOk(
      PointPayload('Z', static_cast<int>(type), address, length),
      absl::StrFormat("insert watchpoint at 0x%08x", address));
}

absl::Status RspClient::RemoveWatchpoint(WatchpointType type, uint32_t address,
                                         uint32_t length) {
  return RequestOk(
      PointPayload('z', static_cast<int>(type), address, length),
      absl::StrFormat("remove watchpoint at 0x%08x", address));
}

absl::StatusOr<RspClient::PipelineResult> RspClient::Pipeline(
    const RspBatch& batch, std::optional<absl::Duration> continue_timeout) {
  // The batch as packets; reads and writes split at max_memory_chunk_.
  struct Packet {
    std::string payload;
    std::string what;
    int read = -1;  // the read this packet's bytes belong to, or -1: "OK"
  };
  std::vector<Packet> packets;
  std::vector<uint32_t> read_lengths;
  int reads = 0;
  for (const RspBatch::Request& request : batch.requests_) {
    switch (request.kind) {
      case RspBatch::Request::Kind::kWrite:
        for (size_t done = 0; done < request.data.size();) {
          const uint32_t n = std::min<uint32_t>(
              max_memory_chunk_, request.data.size() - done);
          const uint32_t at = request.address + static_cast<uint32_t>(done);
          packets.push_back(
              {absl::StrCat(absl::StrFormat("M%x,%x:", at, n),
                            rsp::HexEncode(request.data.data() + done, n)),
               absl::StrFormat("write %d bytes at 0x%08x", n, at), -1});
          done += n;
        }
        break;
      case RspBatch::Request::Kind::kRead:
        for (uint32_t done = 0; done < request.length;) {
          const uint32_t n =
              std::min<uint32_t>(max_memory_chunk_, request.length - done);
          const uint32_t at = request.address + done;
          packets.push_back({absl::StrFormat("m%x,%x", at, n),
                             absl::StrFormat("read %d bytes at 0x%08x", n, at),
                             reads});
          done += n;
        }
        read_lengths.push_back(request.length);
        ++reads;
        break;
      case RspBatch::Request::Kind::kOk:
        packets.push_back({request.payload, request.payload, -1});
        break;
    }
  }

  PipelineResult result;
  result.reads.resize(batch.reads_);
  absl::Status first_error;
  auto take = [&](const Packet& packet, const std::string& reply) {
    if (packet.read < 0) {
      if (reply != "OK" && first_error.ok()) {
        first_error = absl::InternalError(absl::StrCat(
            packet.what, ": expected OK, got '", reply.substr(0, 80), "'"));
      }
      return;
    }
    absl::StatusOr<std::vector<uint8_t>> bytes = rsp::HexDecode(reply);
    if (!bytes.ok() || bytes->empty()) {
      if (first_error.ok()) {
        first_error = absl::InternalError(absl::StrCat(
            packet.what, ": bad reply '", reply.substr(0, 80), "'"));
      }
      return;
    }
    std::vector<uint8_t>& into = result.reads[packet.read];
    into.insert(into.end(), bytes->begin(), bytes->end());
  };

  if (!pipelining_) {
    for (const Packet& packet : packets) {
      MCUNAS_ASSIGN_OR_RETURN(std::string reply,
                              Request(packet.payload, packet.what));
      take(packet, reply);
      if (!first_error.ok()) return first_error;
    }
    if (continue_timeout.has_value()) {
      MCUNAS_ASSIGN_OR_RETURN(result.stop, Continue(*continue_timeout));
    }
  } else {
    std::string wire;
    for (const Packet& packet : packets) {
      absl::StrAppend(&wire, rsp::EncodePacket(packet.payload));
    }
    if (continue_timeout.has_value()) {
      absl::StrAppend(&wire, rsp::EncodePacket("c"));
    }
    // A NAK cannot say which packet of the batch it was for, and resending
    // them all would resume the core twice: none is resent.
    last_sent_.clear();
    MCUNAS_RETURN_IF_ERROR(SendRaw(wire));
    for (const Packet& packet : packets) {
      absl::StatusOr<std::string> reply =
          ReceiveReply(packet.what, !continue_timeout.has_value());
      if (reply.ok()) {
        take(packet, *reply);
      } else if (absl::IsInternal(reply.status())) {
        if (first_error.ok()) first_error = reply.status();  // an `E NN`
      } else {
        return reply.status();  // no reply: the connection is out of step
      }
    }
    if (continue_timeout.has_value()) {
      MCUNAS_ASSIGN_OR_RETURN(result.stop, AwaitStop(*continue_timeout));
    }
  }
  if (!first_error.ok()) return first_error;
  for (size_t i = 0; i < read_lengths.size(); ++i) {
    // A server may send less than asked; Pipeline does not ask again.
    if (result.reads[i].size() != read_lengths[i]) {
      return absl::InternalError(absl::StrFormat(
          "pipelined read %d: got %d of %d bytes", i, result.reads[i].size(),
          read_lengths[i]));
    }
  }
  return result;
}

absl::StatusOr<StopReply> RspClient::WaitForStop(absl::Time deadline) {
  for (;;) {
    MCUNAS_ASSIGN_OR_RETURN(std::string reply, ReceivePacket(deadline));
    // Console output ("O" + hex) may precede the stop; "OK" is not output.
    if (!reply.empty() && reply[0] == 'O' && reply != "OK") continue;
    return ParseStop(reply);
  }
}

absl::StatusOr<StopReply> RspClient::Continue(absl::Duration timeout) {
  MCUNAS_RETURN_IF_ERROR(SendPacket("c"));
  return AwaitStop(timeout);
}

absl::StatusOr<StopReply> RspClient::AwaitStop(absl::Duration timeout) {
  absl::StatusOr<StopReply> stop = WaitForStop(absl::Now() + timeout);
  if (stop.ok() || !absl::IsDeadlineExceeded(stop.status())) return stop;
  // Still running: interrupt it so the session is usable (or at least
  // consistent) again, and report the timeout.
  MCUNAS_RETURN_IF_ERROR(SendRaw(absl::string_view(&kInterrupt, 1)));
  absl::StatusOr<StopReply> interrupted =
      WaitForStop(absl::Now() + kInterruptGrace);
  return absl::DeadlineExceededError(absl::StrCat(
      "the target did not stop within ", absl::FormatDuration(timeout),
      interrupted.ok() ? "; interrupted it"
                       : "; it did not answer the interrupt either"));
}

absl::StatusOr<StopReply> RspClient::Step() {
  MCUNAS_RETURN_IF_ERROR(SendPacket("s"));
  return WaitForStop(absl::Now() + reply_timeout_);
}

absl::StatusOr<std::string> RspClient::Monitor(absl::string_view command,
                                               absl::Duration timeout) {
  MCUNAS_RETURN_IF_ERROR(
      SendPacket(absl::StrCat("qRcmd,", rsp::HexEncode(command))));
  const absl::Time deadline = absl::Now() + timeout;
  std::string output;
  for (;;) {
    MCUNAS_ASSIGN_OR_RETURN(std::string reply, ReceivePacket(deadline));
    if (reply == "OK") return output;
    if (!reply.empty() && reply[0] == 'O') {
      absl::StatusOr<std::vector<uint8_t>> text =
          rsp::HexDecode(absl::string_view(reply).substr(1));
      if (text.ok()) output.append(text->begin(), text->end());
      continue;
    }
    if (reply.empty()) {
      return absl::UnimplementedError(absl::StrCat(
          "monitor command '", command, "' is not supported by the server"));
    }
    return absl::InternalError(absl::StrCat("monitor command '", command,
                                            "' failed: ", reply, " ", output));
  }
}

void RspClient::Kill() {
  if (fd_ < 0) return;
  // No reply is expected (QEMU exits); errors do not matter here.
  (void)SendPacket("k");
  Close();
}

}  // namespace mcunas::devices
