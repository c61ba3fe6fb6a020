// The mcunas model blob: the on-disk and in-flash layout of an int8 model.
//
// One little-endian blob that the firmware executes in place from flash:
//
//   ModelHeader (64 B) | TensorRecord[tensor_count] | OpRecord[op_count] | data
//
// Tables start 16-byte aligned; every constant in the data section starts
// 16-byte aligned (relative to the blob start, which must itself be 16-byte
// aligned in memory). The CRC-32 (IEEE 802.3, as zlib) covers every byte after
// the header. Activations live in a caller-owned arena; their offsets were
// planned when the blob was written (see memory_planner.h), so the runtime
// needs no planner. The loader (model.h) validates all of this.
//
// Layouts (batch is always 1):
//   activations  NHWC int8 (rank 4), or [1, C] for fully-connected outputs
//   conv weights OHWI int8 [C_out][kh][kw][C_in], per-output-channel scales
//   depthwise    [1][kh][kw][C_out] int8 (TFLite layout), per-channel scales
//   fc weights   [C_out][C_in] int8, per-output-channel scales
//   bias         int32 [C_out], scale = input_scale * weight_scale[c]
//
// This header is plain data; no functions, no state.
#ifndef MCUNAS_ENGINE_MODEL_FORMAT_H_
#define MCUNAS_ENGINE_MODEL_FORMAT_H_

#include <stdint.h>

namespace mcunas::engine {

inline constexpr uint32_t kModelMagic = 0x534E434Du;  // bytes "MCNS"
inline constexpr uint16_t kModelVersion = 1;
inline constexpr uint32_t kBlobAlignment = 16;
inline constexpr uint32_t kArenaAlignment = 16;
inline constexpr uint16_t kNoTensor = 0xFFFF;
inline constexpr uint32_t kMaxModelIo = 4;
inline constexpr uint32_t kMaxRank = 4;

enum class TensorType : uint8_t {
  kInt8 = 1,
  kInt32 = 2,
};

enum class TensorStorage : uint8_t {
  kArena = 1,     // an activation: `offset` is an arena offset
  kConstant = 2,  // weights or bias: `offset` is into the data section
};

enum class OpType : uint8_t {
  kConv2D = 1,           // inputs: x, weights (OHWI), bias
  kDepthwiseConv2D = 2,  // inputs: x, weights (1HWC), bias
  kAdd = 3,              // inputs: a, b
  kAveragePool2D = 4,    // inputs: x; same scale and zero point in and out
  kFullyConnected = 5,   // inputs: x (any shape, flattened), weights, bias
  // Added for TFLite interop; each takes one activation input.
  kReshape = 6,    // same bytes, new shape: in place (an alias) or a copy
  kSoftmax = 7,    // over the last dim; output scale 1/256, zero point -128
  kMean = 8,       // over H and W of a {1,H,W,C} input -> C values
  kQuantize = 9,   // int8 -> int8 requantisation to the output's scale
  kTranspose = 10, // rank 4, any permutation that keeps batch 1
  kPad = 11,       // H/W padding with the output zero point (pad_* fields)
};
inline constexpr uint8_t kMaxOpType = 11;

// The float activation fused into an op; the int8 clamp that implements it is
// in OpRecord::act_min/act_max. Informational for tools.
enum class Activation : uint8_t {
  kNone = 0,
  kRelu = 1,
  kRelu6 = 2,
};
inline constexpr uint8_t kMaxActivation = 2;

// OpRecord::flags bits.
inline constexpr uint8_t kOpFlagInPlace = 1u << 0;  // output aliases input 0

struct ModelHeader {
  uint32_t magic;          // kModelMagic
  uint16_t version;        // kModelVersion
  uint16_t header_bytes;   // sizeof(ModelHeader)
  uint32_t total_bytes;    // size of the whole blob
  uint32_t crc32;          // CRC-32 of bytes [header_bytes, total_bytes)
  uint32_t tensor_table_offset;
  uint16_t tensor_count;
  uint16_t tensor_record_bytes;  // sizeof(TensorRecord)
  uint32_t op_table_offset;
  uint16_t op_count;
  uint16_t op_record_bytes;  // sizeof(OpRecord)
  uint32_t data_offset;      // start of the data section (constants, params)
  uint32_t data_bytes;
  uint32_t arena_bytes;  // planned arena size: every activation and scratch
  uint16_t input_count;
  uint16_t output_count;
  uint16_t inputs[kMaxModelIo];   // tensor indices; unused slots kNoTensor
  uint16_t outputs[kMaxModelIo];  // tensor indices; unused slots kNoTensor
};
static_assert(sizeof(ModelHeader) == 64, "ModelHeader layout");

struct TensorRecord {
  uint8_t type;     // TensorType
  uint8_t storage;  // TensorStorage
  uint8_t rank;     // 1..kMaxRank
  uint8_t reserved0;
  uint16_t dims[kMaxRank];  // dims beyond rank are 1
  int32_t zero_point;       // int8 tensors; 0 for int32 and weights
  float scale;              // per-tensor scale (weights: max over channels)
  uint32_t offset;          // arena offset or data-section offset
  uint32_t bytes;           // element count * element size
  uint32_t reserved1;
};
static_assert(sizeof(TensorRecord) == 32, "TensorRecord layout");

struct OpRecord {
  uint8_t type;        // OpType
  uint8_t activation;  // Activation
  int8_t act_min;      // fused clamp, applied after requantisation
  int8_t act_max;
  uint8_t kernel_h, kernel_w;
  uint8_t stride_h, stride_w;
  uint8_t pad_top, pad_left, pad_bottom, pad_right;
  uint8_t depth_multiplier;  // depthwise only; 1 elsewhere
  uint8_t flags;             // kOpFlag*
  uint16_t reserved0;
  uint16_t inputs[3];  // unused slots kNoTensor
  uint16_t output;
  uint32_t params_offset;   // op parameters in the data section (see below)
  uint32_t params_bytes;
  uint32_t scratch_offset;  // arena offset of this op's scratch buffer
  uint32_t scratch_bytes;
  uint32_t reserved1[2];
};
static_assert(sizeof(OpRecord) == 48, "OpRecord layout");

// Op parameters (at OpRecord::params_offset in the data section):
//   conv, depthwise, fully connected: int32 multiplier[C_out] then
//     int32 shift[C_out] (TFLite convention: shift > 0 is a left shift).
//   add: AddParams.
//   softmax: SoftmaxParams. mean: MeanParams. quantize: RequantizeParams.
//   transpose: TransposeParams.
//   average pool, reshape, pad: none.
struct AddParams {
  int32_t left_shift;  // applied to both inputs first (TFLite uses 20)
  int32_t input1_multiplier;
  int32_t input1_shift;
  int32_t input2_multiplier;
  int32_t input2_shift;
  int32_t output_multiplier;
  int32_t output_shift;
  int32_t reserved;
};
static_assert(sizeof(AddParams) == 32, "AddParams layout");

// TFLite's int8 softmax (gemmlowp fixed point), with the parameters TFLite
// Micro's CalculateSoftmaxParams derives from beta and the input scale.
struct SoftmaxParams {
  int32_t input_multiplier;  // Q31, applied to (x - row max) << left_shift
  int32_t input_left_shift;  // 0..30
  int32_t diff_min;          // differences below this give exp = 0
  float beta;                // what the parameters were derived from; kept
                             // for tools and export, unused at runtime
};
static_assert(sizeof(SoftmaxParams) == 16, "SoftmaxParams layout");

// MeanParams::mode.
inline constexpr int32_t kMeanTruncate = 0;    // same quantisation in and out:
                                               // sum / count, truncated
inline constexpr int32_t kMeanRequantize = 1;  // (sum - count * zp_in) times
                                               // multiplier (1/count folded
                                               // in) plus zp_out, clamped
struct MeanParams {
  int32_t mode;
  int32_t multiplier;  // kMeanRequantize: Q31, 0 <= multiplier
  int32_t shift;       // kMeanRequantize: -31..30, TFLite convention
  int32_t reserved;
};
static_assert(sizeof(MeanParams) == 16, "MeanParams layout");

// out = clamp(MultiplyByQuantizedMultiplier(x - zp_in, multiplier, shift)
//             + zp_out), TFLite's Requantize.
struct RequantizeParams {
  int32_t multiplier;  // Q31, >= 0
  int32_t shift;       // -31..22 (x - zp_in << 22 still fits in int32)
  int32_t reserved[2];
};
static_assert(sizeof(RequantizeParams) == 16, "RequantizeParams layout");

// Output dim i is input dim perm[i].
struct TransposeParams {
  int32_t perm[4];
};
static_assert(sizeof(TransposeParams) == 16, "TransposeParams layout");

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_MODEL_FORMAT_H_
