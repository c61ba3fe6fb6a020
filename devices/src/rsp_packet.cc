#include "rsp_packet.h"

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"

namespace mcunas::devices::rsp {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

uint8_t Checksum(absl::string_view data) {
  uint8_t sum = 0;
  for (char c : data) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  return sum;
}

std::string EncodePacket(absl::string_view payload) {
  std::string body;
  body.reserve(payload.size() + 8);
  for (char c : payload) {
    if (c == '$' || c == '#' || c == '}' || c == '*') {
      body.push_back('}');
      body.push_back(static_cast<char>(c ^ 0x20));
    } else {
      body.push_back(c);
    }
  }
  const uint8_t sum = Checksum(body);
  std::string packet = "$";
  packet += body;
  packet.push_back('#');
  packet.push_back(kHexDigits[sum >> 4]);
  packet.push_back(kHexDigits[sum & 0xF]);
  return packet;
}

absl::StatusOr<std::string> DecodeBody(absl::string_view body) {
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '}') {
      if (i + 1 == body.size()) {
        return absl::DataLossError("RSP packet ends inside an escape");
      }
      out.push_back(static_cast<char>(body[++i] ^ 0x20));
    } else if (c == '*') {
      // The next character's value minus 29 is how many more copies of the
      // previous character follow.
      if (out.empty() || i + 1 == body.size()) {
        return absl::DataLossError("RSP packet has a run length without a run");
      }
      const int count = static_cast<uint8_t>(body[++i]) - 29;
      if (count < 0) {
        return absl::DataLossError(
            absl::StrFormat("RSP run length %d is negative", count));
      }
      out.append(static_cast<size_t>(count), out.back());
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string HexEncode(const uint8_t* data, size_t size) {
  std::string hex(2 * size, '0');
  for (size_t i = 0; i < size; ++i) {
    hex[2 * i] = kHexDigits[data[i] >> 4];
    hex[2 * i + 1] = kHexDigits[data[i] & 0xF];
  }
  return hex;
}

std::string HexEncode(absl::string_view text) {
  return HexEncode(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

absl::StatusOr<std::vector<uint8_t>> HexDecode(absl::string_view hex) {
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("hex string of odd length %d", hex.size()));
  }
  std::vector<uint8_t> bytes(hex.size() / 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "not a hex digit at %d in '%s'", hi < 0 ? 2 * i : 2 * i + 1,
          hex.substr(0, 64)));
    }
    bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return bytes;
}

absl::StatusOr<uint32_t> DecodeRegister32(absl::string_view hex) {
  if (hex.size() != 8) {
    return absl::InvalidArgumentError(
        absl::StrFormat("register value '%s' is not 8 hex digits", hex));
  }
  absl::StatusOr<std::vector<uint8_t>> bytes = HexDecode(hex);
  if (!bytes.ok()) return bytes.status();
  const std::vector<uint8_t>& b = *bytes;
  return static_cast<uint32_t>(b[0]) | static_cast<uint32_t>(b[1]) << 8 |
         static_cast<uint32_t>(b[2]) << 16 | static_cast<uint32_t>(b[3]) << 24;
}

std::string EncodeRegister32(uint32_t value) {
  const uint8_t bytes[4] = {
      static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8),
      static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 24)};
  return HexEncode(bytes, 4);
}

}  // namespace mcunas::devices::rsp
