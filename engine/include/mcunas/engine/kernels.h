// Int8 kernel entry points: the contract shared by every kernel set.
//
// A KernelSet is a table of function pointers. `ReferenceKernels()` is simple,
// obviously-right code that follows TFLite's int8 reference kernels; the
// optimised sets must produce the same bytes for every input and fall back to
// reference for shapes they do not specialise. The interpreter takes a
// KernelSet, so tests can run both in one process.
//
// Kernels never allocate. All buffers are caller-owned; `scratch` holds at
// least the bytes the matching *ScratchBytes function returns for the same
// shape (every kernel set honours the same bound, so a plan made once fits all
// sets) and is 4-byte aligned (arena placements are 16-byte aligned); it may
// be null when that size is 0. Its contents on entry do not matter and are
// garbage on return. Kernels are thread-compatible: concurrent calls on
// disjoint buffers are safe.
//
// Shapes: out_shape is given, not derived; a tap is used only if it falls
// inside the input (implicit padding with the input zero point, as TFLite),
// so any pads and output sizes are valid as long as every window has at least
// one tap inside the input.
#ifndef MCUNAS_ENGINE_KERNELS_H_
#define MCUNAS_ENGINE_KERNELS_H_

#include <stdint.h>

namespace mcunas::engine {

// NHWC activation shape, batch 1.
struct Shape3 {
  int32_t h = 1;
  int32_t w = 1;
  int32_t c = 1;
  int32_t Elements() const { return h * w * c; }
};

// Requantisation and clamping shared by conv, depthwise and fully connected.
struct RequantParams {
  int32_t input_offset = 0;   // minus the input zero point
  int32_t output_offset = 0;  // the output zero point
  int32_t act_min = -128;     // fused activation clamp (int8 domain)
  int32_t act_max = 127;
  const int32_t* multiplier = nullptr;  // [C_out], Q31
  const int32_t* shift = nullptr;       // [C_out], TFLite sign convention
};

struct ConvParams {
  int32_t kernel_h = 1, kernel_w = 1;
  int32_t stride_h = 1, stride_w = 1;
  int32_t pad_top = 0, pad_left = 0;  // bottom/right padding is implicit
  int32_t depth_multiplier = 1;       // depthwise only
  RequantParams requant;
};

struct AddQuantParams {
  int32_t input1_offset = 0;  // minus zero points
  int32_t input2_offset = 0;
  int32_t output_offset = 0;
  int32_t left_shift = 20;
  int32_t input1_multiplier = 0, input1_shift = 0;
  int32_t input2_multiplier = 0, input2_shift = 0;
  int32_t output_multiplier = 0, output_shift = 0;
  int32_t act_min = -128, act_max = 127;
};

struct PoolParams {
  int32_t kernel_h = 1, kernel_w = 1;
  int32_t stride_h = 1, stride_w = 1;
  int32_t pad_top = 0, pad_left = 0;
  int32_t act_min = -128, act_max = 127;
};

// Conv 2D. weights OHWI [out.c][kernel_h][kernel_w][in.c]; bias may be null.
// `output` must not overlap `input`.
using ConvFn = void (*)(const ConvParams& params, const Shape3& in_shape,
                        const int8_t* input, const int8_t* weights,
                        const int32_t* bias, const Shape3& out_shape,
                        int8_t* output, int8_t* scratch);

// Depthwise conv. weights [kernel_h][kernel_w][out.c] with
// out.c == in.c * depth_multiplier; bias may be null. In place when
// `output == input`, allowed only with depth_multiplier == 1 and
// out.h * out.w <= in.h * in.w: output channel c then only overwrites input
// channel c's slots, after that channel has been copied to `scratch`.
using DepthwiseFn = void (*)(const ConvParams& params, const Shape3& in_shape,
                             const int8_t* input, const int8_t* weights,
                             const int32_t* bias, const Shape3& out_shape,
                             int8_t* output, int8_t* scratch);

// Element-wise add of two same-shape tensors; `output` may alias either input.
using AddFn = void (*)(const AddQuantParams& params, int32_t elements,
                       const int8_t* input1, const int8_t* input2,
                       int8_t* output);

// Average pool; input and output share scale and zero point (TFLite
// semantics: mean of the valid taps rounded half away from zero, no
// requantisation; a window with no valid tap gives 0 before the clamp).
using AveragePoolFn = void (*)(const PoolParams& params, const Shape3& in_shape,
                               const int8_t* input, const Shape3& out_shape,
                               int8_t* output);

// Fully connected: output[o] over input[in_elements]; weights [out][in].
using FullyConnectedFn = void (*)(const RequantParams& requant,
                                  int32_t in_elements, const int8_t* input,
                                  const int8_t* weights, const int32_t* bias,
                                  int32_t out_elements, int8_t* output);

struct SoftmaxQuantParams {
  int32_t input_multiplier = 0;
  int32_t input_left_shift = 0;
  int32_t diff_min = 0;
};

struct MeanQuantParams {
  bool requantize = false;    // false: truncated mean of the raw values
  int32_t input_offset = 0;   // minus the input zero point
  int32_t output_offset = 0;  // the output zero point
  int32_t multiplier = 0;     // 1/count already folded in
  int32_t shift = 0;
};

struct RequantizeQuantParams {
  int32_t input_offset = 0;   // minus the input zero point
  int32_t output_offset = 0;  // the output zero point
  int32_t multiplier = 0;
  int32_t shift = 0;
};

struct PadQuantParams {
  int32_t pad_top = 0, pad_left = 0;  // bottom/right padding is implicit
  int8_t value = 0;                   // the output zero point
};

// TFLite's int8 softmax over `rows` rows of `depth` values (depth <= 4096),
// output quantised with scale 1/256 and zero point -128. `output` must not
// overlap `input`.
using SoftmaxFn = void (*)(const SoftmaxQuantParams& params, int32_t rows,
                           int32_t depth, const int8_t* input,
                           int8_t* output);

// Mean over H and W of each channel: out_shape is {1, 1, in.c}. TFLite
// Micro's int8 MEAN (see MeanParams in model_format.h).
using MeanFn = void (*)(const MeanQuantParams& params, const Shape3& in_shape,
                        const int8_t* input, int8_t* output);

// Element-wise int8 -> int8 requantisation (TFLite's QUANTIZE between int8
// tensors). `output` may alias `input`.
using RequantizeFn = void (*)(const RequantizeQuantParams& params,
                              int32_t elements, const int8_t* input,
                              int8_t* output);

// Rank-4 transpose: out dim i = in dim perm[i]. `output` must not overlap
// `input`.
using TransposeFn = void (*)(const int32_t in_dims[4], const int32_t perm[4],
                             const int8_t* input, int8_t* output);

// Copies `input` into `output` at (pad_top, pad_left) and fills the rest
// with `value`. out_shape.c == in_shape.c. No overlap.
using PadFn = void (*)(const PadQuantParams& params, const Shape3& in_shape,
                       const int8_t* input, const Shape3& out_shape,
                       int8_t* output);

struct KernelSet {
  const char* name;
  ConvFn conv;
  DepthwiseFn depthwise;
  AddFn add;
  AveragePoolFn average_pool;
  FullyConnectedFn fully_connected;
  SoftmaxFn softmax;
  MeanFn mean;
  RequantizeFn requantize;
  TransposeFn transpose;
  PadFn pad;
};

// Scratch bytes any kernel set may use for these shapes.
//
// Conv: 0 for 1x1 kernels; otherwise the im2col patches of two output pixels
// as int16, 2 * kernel_h * kernel_w * in.c * 2 bytes (108 B for a 3x3x3
// stem).
uint32_t ConvScratchBytes(const ConvParams& params, const Shape3& in_shape,
                          const Shape3& out_shape);
// Depthwise: one channel plane, padded so that every tap of every output lies
// inside it: ((out.h - 1) * stride_h + kernel_h) *
// ((out.w - 1) * stride_w + kernel_w) bytes, or in.h * in.w if that is
// larger. Optimised kernels copy each input channel there with the padding
// filled in (no bounds checks in their inner loops); that copy is also what
// makes in-place work.
uint32_t DepthwiseScratchBytes(const ConvParams& params, const Shape3& in_shape,
                               const Shape3& out_shape);

// TFLite-style reference kernels; always available.
const KernelSet& ReferenceKernels();
// The fastest kernels this build has for the target it was compiled for
// (host SIMD, or Cortex-M DSP on M4/M7/M33); bit-exact with reference.
const KernelSet& OptimizedKernels();

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_KERNELS_H_
