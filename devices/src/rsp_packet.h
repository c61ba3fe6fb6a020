// GDB remote serial protocol framing: `$payload#cs` packets, where cs is the
// sum of the payload bytes mod 256 as two hex digits; `}` escapes (byte ^
// 0x20) and `*` run-length encoding in replies. Private to devices/. Pure
// functions; thread-safe.
#ifndef MCUNAS_DEVICES_SRC_RSP_PACKET_H_
#define MCUNAS_DEVICES_SRC_RSP_PACKET_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace mcunas::devices::rsp {

// Sum of the bytes mod 256.
uint8_t Checksum(absl::string_view data);

// "$" + payload (with `$`, `#`, `}` and `*` escaped) + "#" + checksum.
std::string EncodePacket(absl::string_view payload);

// The payload of a packet body as received (between `$` and `#`): undoes
// escapes and run-length encoding. Fails with DataLoss on a body that ends
// inside an escape or starts with a repeat.
absl::StatusOr<std::string> DecodeBody(absl::string_view body);

// Lower-case hex of `data`.
std::string HexEncode(const uint8_t* data, size_t size);
std::string HexEncode(absl::string_view text);
// Bytes of a hex string; InvalidArgument on odd length or a non-hex digit.
absl::StatusOr<std::vector<uint8_t>> HexDecode(absl::string_view hex);

// A 32-bit little-endian register value as the target sends it ("00100020"
// is 0x20001000), and back.
absl::StatusOr<uint32_t> DecodeRegister32(absl::string_view hex);
std::string EncodeRegister32(uint32_t value);

}  // namespace mcunas::devices::rsp

#endif  // MCUNAS_DEVICES_SRC_RSP_PACKET_H_
