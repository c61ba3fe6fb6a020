// The padded-plane scheme shared by the optimised depthwise kernels. Private
// to engine/kernels/. Pure functions over caller buffers; thread-compatible.
//
// Depthwise works one input channel at a time: the channel's plane is copied
// into scratch with the padding materialised as the input zero point, so every
// tap of every output is inside the plane and the inner loops need no bounds
// checks. A padded tap then contributes (zp + input_offset) * w == 0, exactly
// what TFLite's skipped tap contributes, so
//   acc = sum(plane * w) + input_offset * sum(w) + bias
// over all taps equals reference's accumulator. Copying the whole plane
// before writing output channel c is also what makes in-place work.
#ifndef MCUNAS_ENGINE_KERNELS_OPTIMIZED_DEPTHWISE_PLANE_H_
#define MCUNAS_ENGINE_KERNELS_OPTIMIZED_DEPTHWISE_PLANE_H_

#include <stdint.h>
#include <string.h>

#include "engine/kernels/reference/reference_kernels.h"
#include "mcunas/engine/kernels.h"

namespace mcunas::engine::optimized {

// Largest kernel side the plane kernels take (MBNet uses 3, 5 and 7).
inline constexpr int32_t kMaxPlaneKernel = 7;

struct PlaneGeometry {
  int32_t h;
  int32_t w;
};

// The plane DepthwiseScratchBytes() sizes: every row and column any output
// reads.
inline PlaneGeometry PaddedPlane(const ConvParams& p, const Shape3& out) {
  return {(out.h - 1) * p.stride_h + p.kernel_h,
          (out.w - 1) * p.stride_w + p.kernel_w};
}

// Whether the plane scheme reproduces reference for these parameters: the
// zero point must be an int8 value to be stored in the plane.
inline bool PlaneDepthwiseApplies(const ConvParams& p, const Shape3& in,
                                  const Shape3& out) {
  const int32_t zero_point = -p.requant.input_offset;
  return p.kernel_h >= 1 && p.kernel_h <= kMaxPlaneKernel && p.kernel_w >= 1 &&
         p.kernel_w <= kMaxPlaneKernel && p.stride_h >= 1 && p.stride_w >= 1 &&
         p.depth_multiplier >= 1 && out.c == in.c * p.depth_multiplier &&
         zero_point >= -128 && zero_point <= 127 && out.h >= 1 && out.w >= 1;
}

// Copies input channel `c` into `plane` ([g.h][g.w]); positions outside the
// input hold the zero point.
inline void CopyPaddedPlane(const ConvParams& p, const Shape3& in,
                            const int8_t* input, int32_t c, PlaneGeometry g,
                            int8_t* plane) {
  const int8_t zero_point = static_cast<int8_t>(-p.requant.input_offset);
  // Columns [x_begin, x_end) of every row come from the input.
  int32_t x_begin = p.pad_left < g.w ? p.pad_left : g.w;
  if (x_begin < 0) x_begin = 0;
  int32_t x_end = p.pad_left + in.w;
  if (x_end > g.w) x_end = g.w;
  if (x_end < x_begin) x_end = x_begin;
  for (int32_t r = 0; r < g.h; ++r) {
    int8_t* row = plane + r * g.w;
    const int32_t y = r - p.pad_top;
    if (y < 0 || y >= in.h) {
      memset(row, zero_point, static_cast<size_t>(g.w));
      continue;
    }
    memset(row, zero_point, static_cast<size_t>(x_begin));
    const int8_t* src = input + (y * in.w + x_begin - p.pad_left) * in.c + c;
    for (int32_t q = x_begin; q < x_end; ++q, src += in.c) row[q] = *src;
    memset(row + x_end, zero_point, static_cast<size_t>(g.w - x_end));
  }
}

// Gathers output channel `oc`'s taps ([kernel_h][kernel_w], from the
// [kh][kw][out_c] weights) into `taps` and returns the channel's accumulator
// before any tap: bias + input_offset * sum(taps).
inline int32_t GatherTaps(const ConvParams& p, const int8_t* weights,
                          const int32_t* bias, int32_t out_c, int32_t oc,
                          int16_t* taps) {
  const int32_t n = p.kernel_h * p.kernel_w;
  int32_t sum = 0;
  for (int32_t k = 0; k < n; ++k) {
    taps[k] = weights[k * out_c + oc];
    sum += taps[k];
  }
  return (bias != nullptr ? bias[oc] : 0) + p.requant.input_offset * sum;
}

// Drives the scheme: for each input channel, copy its plane, then for each of
// its output channels call
//   channel_fn(plane, g, taps, acc0, requant, out_ptr)
// where out_ptr points at output (0, 0, oc) and consecutive output pixels are
// out_c bytes apart. REQUIRES: PlaneDepthwiseApplies(); scratch of
// DepthwiseScratchBytes().
template <typename ChannelFn>
void RunPlaneDepthwise(const ConvParams& p, const Shape3& in,
                       const int8_t* input, const int8_t* weights,
                       const int32_t* bias, const Shape3& out, int8_t* output,
                       int8_t* scratch, ChannelFn channel_fn) {
  const PlaneGeometry g = PaddedPlane(p, out);
  int16_t taps[kMaxPlaneKernel * kMaxPlaneKernel];
  for (int32_t c = 0; c < in.c; ++c) {
    CopyPaddedPlane(p, in, input, c, g, scratch);
    for (int32_t m = 0; m < p.depth_multiplier; ++m) {
      const int32_t oc = c * p.depth_multiplier + m;
      const int32_t acc0 = GatherTaps(p, weights, bias, out.c, oc, taps);
      channel_fn(scratch, g, taps, acc0, reference::ForChannel(p.requant, oc),
                 output + oc);
    }
  }
}

}  // namespace mcunas::engine::optimized

#endif  // MCUNAS_ENGINE_KERNELS_OPTIMIZED_DEPTHWISE_PLANE_H_
