// TFLite's int8 reference kernels (reference_integer_ops), batch 1, no
// dilation. Written for obviousness, not speed: every tap is bounds-checked,
// which is how implicit zero-point padding falls out.

#include "engine/kernels/reference/reference_kernels.h"

#include <stdint.h>
#include <string.h>

#include "mcunas/engine/kernels.h"
#include "mcunas/engine/quant_math.h"

namespace mcunas::engine {
namespace reference {
namespace {

// Computes the depth_multiplier output channels of input channel `in_c`.
// Input element (y, x) of that channel is base[(y * in.w + x) * pixel_stride]:
// pixel_stride is in.c when reading the NHWC tensor, 1 when reading a plane
// copied to scratch.
void DepthwiseChannel(const ConvParams& params, const Shape3& in,
                      const int8_t* base, int32_t pixel_stride,
                      const int8_t* weights, const int32_t* bias, int32_t in_c,
                      const Shape3& out, int8_t* output) {
  const RequantParams& rq = params.requant;
  for (int32_t m = 0; m < params.depth_multiplier; ++m) {
    const int32_t oc = in_c * params.depth_multiplier + m;
    for (int32_t oy = 0; oy < out.h; ++oy) {
      for (int32_t ox = 0; ox < out.w; ++ox) {
        const int32_t y0 = oy * params.stride_h - params.pad_top;
        const int32_t x0 = ox * params.stride_w - params.pad_left;
        int32_t acc = 0;
        for (int32_t ky = 0; ky < params.kernel_h; ++ky) {
          const int32_t y = y0 + ky;
          if (y < 0 || y >= in.h) continue;
          for (int32_t kx = 0; kx < params.kernel_w; ++kx) {
            const int32_t x = x0 + kx;
            if (x < 0 || x >= in.w) continue;
            const int32_t v = base[(y * in.w + x) * pixel_stride];
            const int32_t w = weights[(ky * params.kernel_w + kx) * out.c + oc];
            acc += w * (v + rq.input_offset);
          }
        }
        if (bias != nullptr) acc += bias[oc];
        output[(oy * out.w + ox) * out.c + oc] = Requantize(rq, oc, acc);
      }
    }
  }
}

}  // namespace

void Conv(const ConvParams& params, const Shape3& in, const int8_t* input,
          const int8_t* weights, const int32_t* bias, const Shape3& out,
          int8_t* output, int8_t* /*scratch*/) {
  const RequantParams& rq = params.requant;
  for (int32_t oy = 0; oy < out.h; ++oy) {
    for (int32_t ox = 0; ox < out.w; ++ox) {
      const int32_t y0 = oy * params.stride_h - params.pad_top;
      const int32_t x0 = ox * params.stride_w - params.pad_left;
      for (int32_t oc = 0; oc < out.c; ++oc) {
        const int8_t* filter =
            weights + oc * params.kernel_h * params.kernel_w * in.c;
        int32_t acc = 0;
        for (int32_t ky = 0; ky < params.kernel_h; ++ky) {
          const int32_t y = y0 + ky;
          if (y < 0 || y >= in.h) continue;
          for (int32_t kx = 0; kx < params.kernel_w; ++kx) {
            const int32_t x = x0 + kx;
            if (x < 0 || x >= in.w) continue;
            const int8_t* pixel = input + (y * in.w + x) * in.c;
            const int8_t* w = filter + (ky * params.kernel_w + kx) * in.c;
            for (int32_t ic = 0; ic < in.c; ++ic) {
              acc += w[ic] * (pixel[ic] + rq.input_offset);
            }
          }
        }
        if (bias != nullptr) acc += bias[oc];
        output[(oy * out.w + ox) * out.c + oc] = Requantize(rq, oc, acc);
      }
    }
  }
}

void Depthwise(const ConvParams& params, const Shape3& in, const int8_t* input,
               const int8_t* weights, const int32_t* bias, const Shape3& out,
               int8_t* output, int8_t* scratch) {
  if (output != input) {
    for (int32_t c = 0; c < in.c; ++c) {
      DepthwiseChannel(params, in, input + c, in.c, weights, bias, c, out,
                       output);
    }
    return;
  }
  // In place: channel c's plane is saved before output channel c overwrites
  // its slots; other channels' slots are untouched (kernels.h).
  const int32_t pixels = in.h * in.w;
  for (int32_t c = 0; c < in.c; ++c) {
    for (int32_t p = 0; p < pixels; ++p) scratch[p] = input[p * in.c + c];
    DepthwiseChannel(params, in, scratch, 1, weights, bias, c, out, output);
  }
}

void Add(const AddQuantParams& params, int32_t elements, const int8_t* input1,
         const int8_t* input2, int8_t* output) {
  for (int32_t i = 0; i < elements; ++i) {
    const int32_t a =
        (params.input1_offset + input1[i]) * (int32_t{1} << params.left_shift);
    const int32_t b =
        (params.input2_offset + input2[i]) * (int32_t{1} << params.left_shift);
    const int32_t sa = MultiplyByQuantizedMultiplierSmallerThanOneExp(
        a, params.input1_multiplier, params.input1_shift);
    const int32_t sb = MultiplyByQuantizedMultiplierSmallerThanOneExp(
        b, params.input2_multiplier, params.input2_shift);
    int32_t v = MultiplyByQuantizedMultiplierSmallerThanOneExp(
                    sa + sb, params.output_multiplier, params.output_shift) +
                params.output_offset;
    if (v < params.act_min) v = params.act_min;
    if (v > params.act_max) v = params.act_max;
    output[i] = static_cast<int8_t>(v);
  }
}

void AveragePool(const PoolParams& params, const Shape3& in,
                 const int8_t* input, const Shape3& out, int8_t* output) {
  for (int32_t oy = 0; oy < out.h; ++oy) {
    for (int32_t ox = 0; ox < out.w; ++ox) {
      const int32_t y0 = oy * params.stride_h - params.pad_top;
      const int32_t x0 = ox * params.stride_w - params.pad_left;
      for (int32_t c = 0; c < out.c; ++c) {
        int32_t sum = 0;
        int32_t count = 0;
        for (int32_t ky = 0; ky < params.kernel_h; ++ky) {
          const int32_t y = y0 + ky;
          if (y < 0 || y >= in.h) continue;
          for (int32_t kx = 0; kx < params.kernel_w; ++kx) {
            const int32_t x = x0 + kx;
            if (x < 0 || x >= in.w) continue;
            sum += input[(y * in.w + x) * in.c + c];
            ++count;
          }
        }
        // TFLite rejects a window with no valid tap; we define its mean as
        // 0 rather than divide by zero.
        int32_t v = 0;
        if (count > 0) {
          v = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
        }
        if (v < params.act_min) v = params.act_min;
        if (v > params.act_max) v = params.act_max;
        output[(oy * out.w + ox) * out.c + c] = static_cast<int8_t>(v);
      }
    }
  }
}

void FullyConnected(const RequantParams& rq, int32_t in_elements,
                    const int8_t* input, const int8_t* weights,
                    const int32_t* bias, int32_t out_elements, int8_t* output) {
  for (int32_t o = 0; o < out_elements; ++o) {
    const int8_t* w = weights + o * in_elements;
    int32_t acc = 0;
    for (int32_t i = 0; i < in_elements; ++i) {
      acc += w[i] * (input[i] + rq.input_offset);
    }
    if (bias != nullptr) acc += bias[o];
    output[o] = Requantize(rq, o, acc);
  }
}

void Mean(const MeanQuantParams& params, const Shape3& in, const int8_t* input,
          int8_t* output) {
  // TFLite Micro's int8 MEAN (reduce.h): a sum of the raw values, then
  // either a truncating division (same quantisation in and out) or a
  // requantisation with 1/count folded into the multiplier.
  const int32_t count = in.h * in.w;
  for (int32_t c = 0; c < in.c; ++c) {
    int32_t sum = 0;
    for (int32_t p = 0; p < count; ++p) sum += input[p * in.c + c];
    int32_t v;
    if (params.requantize) {
      v = MultiplyByQuantizedMultiplier(sum + params.input_offset * count,
                                        params.multiplier, params.shift) +
          params.output_offset;
    } else {
      v = sum / count;
    }
    if (v < -128) v = -128;
    if (v > 127) v = 127;
    output[c] = static_cast<int8_t>(v);
  }
}

void Requantize(const RequantizeQuantParams& params, int32_t elements,
                const int8_t* input, int8_t* output) {
  for (int32_t i = 0; i < elements; ++i) {
    int32_t v = MultiplyByQuantizedMultiplier(input[i] + params.input_offset,
                                              params.multiplier,
                                              params.shift) +
                params.output_offset;
    if (v < -128) v = -128;
    if (v > 127) v = 127;
    output[i] = static_cast<int8_t>(v);
  }
}

void Transpose(const int32_t in_dims[4], const int32_t perm[4],
               const int8_t* input, int8_t* output) {
  int32_t in_stride[4];
  in_stride[3] = 1;
  for (int d = 2; d >= 0; --d) in_stride[d] = in_stride[d + 1] * in_dims[d + 1];
  int32_t out_dims[4], stride[4];
  for (int d = 0; d < 4; ++d) {
    out_dims[d] = in_dims[perm[d]];
    stride[d] = in_stride[perm[d]];
  }
  for (int32_t a = 0; a < out_dims[0]; ++a) {
    for (int32_t b = 0; b < out_dims[1]; ++b) {
      for (int32_t c = 0; c < out_dims[2]; ++c) {
        const int8_t* row = input + a * stride[0] + b * stride[1] + c * stride[2];
        for (int32_t d = 0; d < out_dims[3]; ++d) *output++ = row[d * stride[3]];
      }
    }
  }
}

void Pad(const PadQuantParams& params, const Shape3& in, const int8_t* input,
         const Shape3& out, int8_t* output) {
  for (int32_t y = 0; y < out.h; ++y) {
    const int32_t iy = y - params.pad_top;
    for (int32_t x = 0; x < out.w; ++x) {
      const int32_t ix = x - params.pad_left;
      int8_t* dst = output + (y * out.w + x) * out.c;
      if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) {
        memset(dst, static_cast<uint8_t>(params.value),
               static_cast<size_t>(out.c));
      } else {
        memcpy(dst, input + (iy * in.w + ix) * in.c, static_cast<size_t>(in.c));
      }
    }
  }
}

}  // namespace reference

uint32_t ConvScratchBytes(const ConvParams& params, const Shape3& in_shape,
                          const Shape3& /*out_shape*/) {
  if (params.kernel_h == 1 && params.kernel_w == 1) return 0;
  // The optimised im2col path: two output pixels' patches as int16.
  const uint32_t patch = static_cast<uint32_t>(params.kernel_h) *
                         static_cast<uint32_t>(params.kernel_w) *
                         static_cast<uint32_t>(in_shape.c);
  return 2 * patch * sizeof(int16_t);
}

uint32_t DepthwiseScratchBytes(const ConvParams& params, const Shape3& in_shape,
                               const Shape3& out_shape) {
  // One channel plane, padded so that every tap of every output is inside it
  // (optimised kernels), and at least the unpadded plane (reference in place).
  const uint32_t padded_h = static_cast<uint32_t>(
      (out_shape.h - 1) * params.stride_h + params.kernel_h);
  const uint32_t padded_w = static_cast<uint32_t>(
      (out_shape.w - 1) * params.stride_w + params.kernel_w);
  const uint32_t padded = padded_h * padded_w;
  const uint32_t plane = static_cast<uint32_t>(in_shape.h * in_shape.w);
  return padded > plane ? padded : plane;
}

const KernelSet& ReferenceKernels() {
  // constexpr: initialised at compile time, so no guard variable.
  static constexpr KernelSet kSet = {
      "reference",          reference::Conv,       reference::Depthwise,
      reference::Add,       reference::AveragePool, reference::FullyConnected,
      reference::Softmax,   reference::Mean,       reference::Requantize,
      reference::Transpose, reference::Pad};
  return kSet;
}

}  // namespace mcunas::engine
