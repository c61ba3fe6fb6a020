#include "rsp_packet.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mcunas::devices::rsp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RspPacketTest, EncodesWithChecksum) {
  // The checksum is the byte sum mod 256 in lower-case hex: 'O' + 'K' =
  // 0x4f + 0x4b.
  EXPECT_EQ(EncodePacket("OK"), "$OK#9a");
  EXPECT_EQ(EncodePacket("?"), "$?#3f");
  EXPECT_EQ(EncodePacket(""), "$#00");
}

TEST(RspPacketTest, EscapesSpecialCharacters) {
  const std::string packet = EncodePacket("a$b#c}d*e");
  EXPECT_EQ(packet.substr(0, packet.size() - 3), "$a}\x04" "b}\x03" "c}]d}\x0a" "e");
  absl::StatusOr<std::string> body =
      DecodeBody(packet.substr(1, packet.size() - 4));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "a$b#c}d*e");
}

TEST(RspPacketTest, DecodesRunLengthEncoding) {
  // "0* " is '0' followed by ' ' - 29 = 3 more zeros.
  absl::StatusOr<std::string> body = DecodeBody("0* 1");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "00001");
}

TEST(RspPacketTest, RejectsBrokenBodies) {
  EXPECT_FALSE(DecodeBody("abc}").ok());
  EXPECT_FALSE(DecodeBody("*x").ok());
  EXPECT_FALSE(DecodeBody("a*").ok());
}

TEST(RspPacketTest, HexRoundTrip) {
  const uint8_t bytes[] = {0x00, 0x7f, 0x80, 0xff};
  EXPECT_EQ(HexEncode(bytes, 4), "007f80ff");
  absl::StatusOr<std::vector<uint8_t>> back = HexDecode("007F80ff");
  ASSERT_TRUE(back.ok());
  EXPECT_THAT(*back, ElementsAre(0x00, 0x7f, 0x80, 0xff));
  EXPECT_THAT(std::string(HexDecode("abc").status().message()), HasSubstr("odd length"));
  EXPECT_THAT(std::string(HexDecode("zz").status().message()), HasSubstr("not a hex digit"));
}

TEST(RspPacketTest, RegistersAreLittleEndian) {
  absl::StatusOr<uint32_t> value = DecodeRegister32("00100020");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 0x20001000u);
  EXPECT_EQ(EncodeRegister32(0x01000000u), "00000001");
  EXPECT_FALSE(DecodeRegister32("001000").ok());
}

}  // namespace
}  // namespace mcunas::devices::rsp
