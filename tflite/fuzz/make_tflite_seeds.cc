// Writes the .tflite fuzzer's seed corpus into DIR: exported test graphs
// (every supported op), small hand-built models (float edges, a foldable
// PAD, an unsupported op), malformed files (truncated, a wrong identifier,
// root and vector offsets pointing outside the file, bad enums, bad tensor
// and buffer indices, huge shapes), and a copy of person_detect.tflite when
// its path is given and exists.
// Usage: make_tflite_fuzz_seeds DIR [person_detect.tflite]
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "mcunas/tflite/tflite_export.h"
#include "test_graphs.h"
#include "tflite/testing/tflite_builder.h"

namespace {

using namespace mcunas;
using tflite::testing::TfliteBuilder;
using Op = tflite::fb::BuiltinOperator;

bool Write(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) std::cerr << "cannot write " << path << "\n";
  return static_cast<bool>(out);
}

// input -> conv 3x3 -> out, with knobs for breaking it.
struct Small {
  std::vector<int32_t> in_shape = {1, 6, 6, 2};
  tflite::fb::TensorType bias_type = tflite::fb::TensorType::INT32;
  int32_t weights_index = -1;  // -1: the real weights
  tflite::fb::Padding padding = tflite::fb::Padding::SAME;
  Op code = Op::CONV_2D;
};

std::vector<uint8_t> SmallModel(const Small& s) {
  TfliteBuilder b;
  const int32_t x = b.Activation(s.in_shape, 0.05f, 1, "x");
  const int32_t w = b.Weights({3, 3, 3, 2}, std::vector<int8_t>(54, 3),
                              {0.01f, 0.02f, 0.03f}, 0);
  const int32_t bias = b.Raw({3}, s.bias_type, std::vector<uint8_t>(12, 1),
                             {}, {});
  const int32_t y = b.Activation({1, 6, 6, 3}, 0.1f, -2, "y");
  const tflite::fb::Padding padding = s.padding;
  b.Op(s.code, {x, s.weights_index < 0 ? w : s.weights_index, bias}, {y},
       tflite::fb::BuiltinOptions::Conv2DOptions,
       [padding](flatbuffers::FlatBufferBuilder& fbb) {
         return tflite::fb::CreateConv2DOptions(fbb, padding, 1, 1).Union();
       });
  return b.Build({x}, {y});
}

std::vector<uint8_t> EdgeAndPadModel() {
  TfliteBuilder b;
  const int32_t in = b.Float({1, 6, 6, 2}, "in");
  const int32_t x = b.Activation({1, 6, 6, 2}, 0.05f, 1, "x");
  const int32_t p = b.Activation({1, 8, 8, 2}, 0.05f, 1, "padded");
  const int32_t paddings = b.Int32({4, 2}, {0, 0, 1, 1, 1, 1, 0, 0});
  const int32_t w = b.Weights({1, 3, 3, 2}, std::vector<int8_t>(18, -5),
                              {0.01f, 0.02f}, 3);
  const int32_t y = b.Activation({1, 6, 6, 2}, 0.1f, -2, "y");
  const int32_t out = b.Float({1, 6, 6, 2}, "out");
  b.Op(Op::QUANTIZE, {in}, {x});
  b.Op(Op::PAD, {x, paddings}, {p});
  b.Op(Op::DEPTHWISE_CONV_2D, {p, w, -1}, {y},
       tflite::fb::BuiltinOptions::DepthwiseConv2DOptions,
       [](flatbuffers::FlatBufferBuilder& fbb) {
         return tflite::fb::CreateDepthwiseConv2DOptions(
                    fbb, tflite::fb::Padding::VALID, 1, 1, 1)
             .Union();
       });
  b.Op(Op::DEQUANTIZE, {y}, {out});
  return b.Build({in}, {out});
}

std::vector<uint8_t> UnsupportedOpModel() {
  TfliteBuilder b;
  const int32_t x = b.Activation({1, 4}, 0.05f, 1, "x");
  const int32_t y = b.Activation({1, 4}, 1.0f / 256, -128, "y");
  b.Op(Op::LOGISTIC, {x}, {y});
  return b.Build({x}, {y});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: make_tflite_fuzz_seeds DIR [person_detect.tflite]\n";
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<std::pair<std::string, std::vector<uint8_t>>> seeds;
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    engine::testing::TinyGraphOptions o;
    o.resolution = 6 + static_cast<int32_t>(seed);
    o.width = 2 + static_cast<int32_t>(seed);
    o.kernel = 3 + 2 * static_cast<int32_t>(seed % 2);
    auto tiny = tflite::ExportTflite(engine::testing::TinyMbv2Graph(seed, o));
    auto interop = tflite::ExportTflite(engine::testing::InteropGraph(seed));
    if (!tiny.ok() || !interop.ok()) {
      std::cerr << "export failed\n";
      return 1;
    }
    seeds.emplace_back("tiny" + std::to_string(seed), *tiny);
    seeds.emplace_back("interop" + std::to_string(seed), *interop);
  }
  const std::vector<uint8_t> valid = seeds[0].second;
  seeds.emplace_back("edges_and_pad", EdgeAndPadModel());
  seeds.emplace_back("unsupported_logistic", UnsupportedOpModel());
  seeds.emplace_back("small_conv", SmallModel({}));

  // Malformed files.
  seeds.emplace_back("truncated_half", std::vector<uint8_t>(
                                           valid.begin(),
                                           valid.begin() + valid.size() / 2));
  seeds.emplace_back("truncated_by_one",
                     std::vector<uint8_t>(valid.begin(), valid.end() - 1));
  std::vector<uint8_t> bad = valid;
  std::memcpy(bad.data() + 4, "TFL2", 4);
  seeds.emplace_back("wrong_identifier", bad);
  bad = valid;
  const uint32_t far = 0x7FFFFFF0u;
  std::memcpy(bad.data(), &far, 4);  // root table offset past the end
  seeds.emplace_back("root_offset_outside", bad);
  bad = valid;
  for (size_t at = 16; at + 4 < bad.size(); at += 97) {
    std::memcpy(bad.data() + at, &far, 4);  // scattered offsets and lengths
  }
  seeds.emplace_back("offsets_outside", bad);
  Small s;
  s.padding = static_cast<tflite::fb::Padding>(7);
  seeds.emplace_back("bad_padding_enum", SmallModel(s));
  s = {};
  s.bias_type = static_cast<tflite::fb::TensorType>(42);
  seeds.emplace_back("bad_tensor_type", SmallModel(s));
  s = {};
  s.code = static_cast<Op>(300);
  seeds.emplace_back("bad_op_code", SmallModel(s));
  s = {};
  s.weights_index = 1000;
  seeds.emplace_back("bad_tensor_index", SmallModel(s));
  s = {};
  s.in_shape = {1, 100000, 6, 2};
  seeds.emplace_back("huge_dimension", SmallModel(s));
  s = {};
  s.in_shape = {1, 1 << 20, 1 << 20, 2};
  seeds.emplace_back("huge_element_count", SmallModel(s));
  s = {};
  s.in_shape = {1, -1, 6, 2};
  seeds.emplace_back("dynamic_dimension", SmallModel(s));

  for (const auto& [name, bytes] : seeds) {
    if (!Write(dir + "/" + name + ".tflite", bytes)) return 1;
  }
  if (argc == 3) {
    std::ifstream person(argv[2], std::ios::binary);
    if (person) {
      const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(person)),
                                       std::istreambuf_iterator<char>());
      if (!Write(dir + "/person_detect.tflite", bytes)) return 1;
    }
  }
  return 0;
}
