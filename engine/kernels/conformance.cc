// The conformance table and its runner; see conformance.h.

#include "engine/kernels/conformance.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mcunas/engine/kernels.h"

namespace mcunas::engine {
namespace {

constexpr uint32_t kCasesPerOp[kConformanceOpCount] = {72, 72, 56, 56, 56};
constexpr uint32_t kGuardBytes = 16;
constexpr uint8_t kGuardByte = 0xA5;
constexpr uint8_t kRefFill = 0x55;   // unwritten outputs differ between
constexpr uint8_t kCandFill = 0xAA;  // reference and candidate

// xorshift32: tiny, deterministic on every target.
class Rng {
 public:
  explicit Rng(uint32_t seed) : state_(seed != 0 ? seed : 0x9E3779B9u) {
    for (int i = 0; i < 4; ++i) Next();
  }
  uint32_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }
  // Uniform in [lo, hi].
  int32_t Range(int32_t lo, int32_t hi) {
    const uint32_t span = static_cast<uint32_t>(hi - lo) + 1u;
    return lo + static_cast<int32_t>(Next() % span);
  }
  bool Percent(uint32_t p) { return Next() % 100u < p; }
  template <typename T, size_t N>
  T Pick(const T (&values)[N]) {
    return values[Next() % N];
  }

 private:
  uint32_t state_;
};

// Bump allocator over the caller's work buffer: 16-byte aligned blocks, each
// followed by guard bytes that catch out-of-bounds writes.
class Arena {
 public:
  Arena(uint8_t* base, uint32_t bytes) : base_(base), bytes_(bytes) {}

  uint8_t* Take(uint32_t bytes) {
    const uintptr_t addr = reinterpret_cast<uintptr_t>(base_) + used_;
    const uint32_t start =
        used_ + static_cast<uint32_t>(((addr + 15u) & ~uintptr_t{15}) - addr);
    if (start > bytes_ || bytes_ - start < bytes + kGuardBytes) {
      exhausted_ = true;
      return nullptr;
    }
    used_ = start + bytes + kGuardBytes;
    memset(base_ + start + bytes, kGuardByte, kGuardBytes);
    return base_ + start;
  }
  int8_t* TakeI8(uint32_t n) { return reinterpret_cast<int8_t*>(Take(n)); }
  int32_t* TakeI32(uint32_t n) {
    return reinterpret_cast<int32_t*>(Take(n * 4u));
  }
  bool exhausted() const { return exhausted_; }

 private:
  uint8_t* base_;
  uint32_t bytes_;
  uint32_t used_ = 0;
  bool exhausted_ = false;
};

bool GuardIntact(const void* block, uint32_t bytes) {
  const uint8_t* guard = static_cast<const uint8_t*>(block) + bytes;
  for (uint32_t i = 0; i < kGuardBytes; ++i) {
    if (guard[i] != kGuardByte) return false;
  }
  return true;
}

// Bounded string building without stdio.
class Text {
 public:
  Text(char* buf, uint32_t cap) : buf_(buf), cap_(cap) { buf_[0] = '\0'; }
  Text& operator<<(const char* s) {
    while (*s != '\0' && len_ + 1 < cap_) buf_[len_++] = *s++;
    buf_[len_] = '\0';
    return *this;
  }
  Text& operator<<(int32_t v) {
    char digits[12];
    int n = 0;
    uint32_t u =
        v < 0 ? 0u - static_cast<uint32_t>(v) : static_cast<uint32_t>(v);
    do {
      digits[n++] = static_cast<char>('0' + u % 10u);
      u /= 10u;
    } while (u != 0);
    if (v < 0) *this << "-";
    char out[12];
    for (int i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
    out[n] = '\0';
    return *this << static_cast<const char*>(out);
  }

 private:
  char* buf_;
  uint32_t cap_;
  uint32_t len_ = 0;
};

const char* OpName(ConformanceOp op) {
  switch (op) {
    case ConformanceOp::kConv:
      return "conv";
    case ConformanceOp::kDepthwise:
      return "depthwise";
    case ConformanceOp::kAdd:
      return "add";
    case ConformanceOp::kAveragePool:
      return "avgpool";
    case ConformanceOp::kFullyConnected:
      return "fc";
  }
  return "?";
}

// One case's bookkeeping: the failure text starts with the op, the case
// index and the shape; the first failing check of the first failing case is
// what the result keeps.
class CaseReport {
 public:
  CaseReport(ConformanceResult* result, ConformanceOp op, uint32_t index)
      : result_(result), op_(op), index_(index) {}

  void Shape(const char* s) { shape_ = s; }
  void Dims(const Shape3& in, const Shape3& out) {
    in_ = in;
    out_ = out;
    has_dims_ = true;
  }
  void Kernel(int32_t kh, int32_t kw, int32_t sh, int32_t sw) {
    kh_ = kh;
    kw_ = kw;
    sh_ = sh;
    sw_ = sw;
    has_kernel_ = true;
  }
  // Records a failed check (only the first one of a case counts).
  void Fail(const char* what, int32_t at, int32_t want, int32_t got) {
    if (failed_) return;
    failed_ = true;
    ++result_->mismatches;
    if (result_->first_failure[0] != '\0') return;
    Text t(result_->first_failure, sizeof(result_->first_failure));
    t << OpName(op_) << " #" << static_cast<int32_t>(index_) << " " << shape_;
    if (has_kernel_)
      t << " k" << kh_ << "x" << kw_ << " s" << sh_ << "x" << sw_;
    if (has_dims_) {
      t << " " << in_.h << "x" << in_.w << "x" << in_.c << "->" << out_.h << "x"
        << out_.w << "x" << out_.c;
    }
    t << ": " << what;
    if (at >= 0) t << " @" << at << " ref " << want << " got " << got;
  }
  // Compares candidate bytes with reference bytes.
  void Compare(const int8_t* want, const int8_t* got, int32_t n) {
    for (int32_t i = 0; i < n; ++i) {
      if (want[i] != got[i]) {
        Fail("output", i, want[i], got[i]);
        return;
      }
    }
  }
  void CheckGuard(const void* block, uint32_t bytes, const char* what) {
    if (block != nullptr && !GuardIntact(block, bytes)) Fail(what, -1, 0, 0);
  }

 private:
  ConformanceResult* result_;
  ConformanceOp op_;
  uint32_t index_;
  const char* shape_ = "";
  Shape3 in_, out_;
  int32_t kh_ = 0, kw_ = 0, sh_ = 0, sw_ = 0;
  bool has_dims_ = false;
  bool has_kernel_ = false;
  bool failed_ = false;
};

int32_t Log2Floor(int32_t v) {
  int32_t r = 0;
  while (v > 1) {
    v >>= 1;
    ++r;
  }
  return r;
}

void FillRandom(Rng& rng, int8_t* p, int32_t n) {
  for (int32_t i = 0; i < n; ++i) p[i] = static_cast<int8_t>(rng.Next() >> 24);
}

// Values for conv-like cases. Full-range data gives accumulators in the
// thousands and a scale of ~1/100, which hides an accumulator off by one in
// all but a few outputs; "small" data (weights in [-3, 3], inputs within 4
// of the zero point) gives a scale near 1, where any accumulator error shows.
struct DataRange {
  bool small;
  int32_t zero_point;  // input zero point

  void FillInput(Rng& rng, int8_t* p, int32_t n) const {
    if (!small) return FillRandom(rng, p, n);
    for (int32_t i = 0; i < n; ++i) {
      int32_t v = zero_point + rng.Range(-4, 4);
      v = v < -128 ? -128 : v > 127 ? 127 : v;
      p[i] = static_cast<int8_t>(v);
    }
  }
  void FillWeights(Rng& rng, int8_t* p, int32_t n) const {
    if (!small) return FillRandom(rng, p, n);
    for (int32_t i = 0; i < n; ++i)
      p[i] = static_cast<int8_t>(rng.Range(-3, 3));
  }
  int32_t Bias(Rng& rng) const {
    return small ? rng.Range(-60, 60) : rng.Range(-40000, 40000);
  }
  // log2 of a typical |accumulator| over `depth` taps.
  int32_t AccLog2(int32_t depth) const {
    return (small ? 2 : 12) + Log2Floor(depth) / 2;
  }
};

DataRange RandomDataRange(Rng& rng) {
  return {rng.Percent(40), rng.Range(-128, 127)};
}

// Random requantisation for accumulators of about 2^acc_log2: shifts centred
// where the outputs mostly land inside int8 (so the comparison sees real
// values, not just clamps), with occasional extremes.
bool RandomRequant(Rng& rng, Arena& arena, int32_t channels, int32_t acc_log2,
                   int32_t zero_point, RequantParams* rq) {
  int32_t* multiplier = arena.TakeI32(static_cast<uint32_t>(channels));
  int32_t* shift = arena.TakeI32(static_cast<uint32_t>(channels));
  if (multiplier == nullptr || shift == nullptr) return false;
  const int32_t centre = 6 - acc_log2;
  for (int32_t c = 0; c < channels; ++c) {
    multiplier[c] = rng.Range(1 << 30, INT32_MAX);
    shift[c] = centre + rng.Range(-2, 2);
    if (rng.Percent(3)) multiplier[c] = 0;
    if (rng.Percent(3)) shift[c] = rng.Range(-31, 2);
  }
  rq->multiplier = multiplier;
  rq->shift = shift;
  rq->input_offset = -zero_point;
  rq->output_offset = rng.Range(-128, 127);
  switch (rng.Range(0, 3)) {
    case 0:
      rq->act_min = -128;
      rq->act_max = 127;
      break;
    case 1:  // ReLU
      rq->act_min = rq->output_offset;
      rq->act_max = 127;
      break;
    case 2:  // ReLU6-like
      rq->act_min = rq->output_offset;
      rq->act_max = rq->output_offset + rng.Range(0, 127 - rq->output_offset);
      break;
    default:
      rq->act_min = rng.Range(-128, 0);
      rq->act_max = rng.Range(rq->act_min, 127);
      break;
  }
  return true;
}

// Output size along one axis for a window that never starts in the padding
// only (pads < kernel), so every output has at least one valid tap.
int32_t OutSize(int32_t in, int32_t kernel, int32_t stride, int32_t pad_before,
                int32_t pad_after) {
  return (in + pad_before + pad_after - kernel) / stride + 1;
}

// Picks pads in [0, kernel) on both sides of an axis with in >= kernel.
void RandomPads(Rng& rng, int32_t kernel, int32_t* before, int32_t* after) {
  switch (rng.Range(0, 2)) {
    case 0:  // VALID
      *before = 0;
      *after = 0;
      break;
    case 1:  // SAME-like
      *before = (kernel - 1) / 2;
      *after = kernel - 1 - *before;
      break;
    default:
      *before = rng.Range(0, kernel - 1);
      *after = rng.Range(0, kernel - 1);
      break;
  }
}

struct ConvCase {
  ConvParams params;
  Shape3 in;
  Shape3 out;
  bool bias = true;
  bool in_place = false;
  bool full_range = false;  // fused clamp forced to [-128, 127]
  const char* label = "";
};

// The conv table: 1x1 (dense and strided), stem k3 s2 with 1-4 input
// channels, then k3/k5/k7, non-square and k2 kernels, then edge cases and
// wide full-range pointwise.
ConvCase MakeConvCase(uint32_t i, Rng& rng) {
  static constexpr int32_t kPointwiseIn[] = {1,  2,  3,  5,  7,  8,  9, 15,
                                             16, 17, 23, 24, 31, 33, 48};
  ConvCase c;
  ConvParams& p = c.params;
  int32_t pad_bottom = 0, pad_right = 0;
  if (i < 20) {
    c.label = "pointwise";
    p.stride_h = p.stride_w = (i % 5 == 4) ? 2 : 1;
    c.in = {rng.Range(1, 9), rng.Range(1, 11), rng.Pick(kPointwiseIn)};
    c.out.c = rng.Range(1, 21);
  } else if (i < 36) {
    c.label = "stem";
    p.kernel_h = p.kernel_w = 3;
    p.stride_h = p.stride_w = 2;
    c.in = {rng.Range(3, 17), rng.Range(3, 17), rng.Range(1, 4)};
    c.out.c = rng.Range(1, 17);
    RandomPads(rng, 3, &p.pad_top, &pad_bottom);
    RandomPads(rng, 3, &p.pad_left, &pad_right);
  } else if (i < 56) {
    static constexpr int32_t kSizes[][2] = {{3, 3}, {5, 5}, {7, 7}, {1, 3},
                                            {3, 1}, {2, 2}, {3, 5}};
    c.label = "kxk";
    const auto& k = kSizes[i % 7];
    p.kernel_h = k[0];
    p.kernel_w = k[1];
    p.stride_h = rng.Range(1, 2);
    p.stride_w = rng.Percent(80) ? p.stride_h : 3 - p.stride_h;
    c.in = {rng.Range(p.kernel_h, 12), rng.Range(p.kernel_w, 12),
            rng.Range(1, 13)};
    c.out.c = rng.Range(1, 11);
    RandomPads(rng, p.kernel_h, &p.pad_top, &pad_bottom);
    RandomPads(rng, p.kernel_w, &p.pad_left, &pad_right);
  } else if (i >= 64) {
    // Wide pointwise with the full int8 clamp and even channel counts (what
    // the blocked kernels take), input channels past their stack buffers
    // included, pixel counts not a multiple of the pixel block.
    static constexpr int32_t kWideIn[] = {8, 12, 64, 128, 256, 300, 712, 713};
    c.label = "pointwise-wide";
    c.full_range = true;
    p.stride_h = p.stride_w = (i % 4 == 3) ? 2 : 1;
    c.in = {rng.Range(1, 4), rng.Range(1, 5), kWideIn[i % 8]};
    c.out.c = 2 * rng.Range(1, 12);
  } else {
    // Edges: 1x1 with padding (taps in the padding), 1x1 outputs, a single
    // channel, large channel counts.
    c.label = "edge";
    switch (i % 4) {
      case 0:
        p.pad_top = p.pad_left = 1;
        pad_bottom = pad_right = 1;
        c.in = {rng.Range(1, 6), rng.Range(1, 6), rng.Range(1, 9)};
        c.out.c = rng.Range(1, 9);
        break;
      case 1:
        p.kernel_h = p.kernel_w = 3;
        c.in = {3, 3, rng.Range(1, 40)};
        c.out.c = rng.Range(1, 9);
        break;
      case 2:
        c.in = {1, 1, rng.Range(60, 130)};
        c.out.c = rng.Range(1, 40);
        break;
      default:
        p.kernel_h = p.kernel_w = 3;
        p.stride_h = p.stride_w = 2;
        p.pad_top = p.pad_left = 1;
        pad_bottom = pad_right = 1;
        c.in = {rng.Range(2, 9), rng.Range(2, 9), 1};
        c.out.c = 1;
        break;
    }
  }
  c.out.h = OutSize(c.in.h, p.kernel_h, p.stride_h, p.pad_top, pad_bottom);
  c.out.w = OutSize(c.in.w, p.kernel_w, p.stride_w, p.pad_left, pad_right);
  c.bias = !rng.Percent(10);
  return c;
}

// The depthwise table: (k3, k5, k7) x (s1, s2) x {out of place, in place,
// depth multiplier 2-3, odd pads / non-square}, with widths on both sides of
// the 8-output vector blocks.
ConvCase MakeDepthwiseCase(uint32_t i, Rng& rng) {
  static constexpr int32_t kKernels[] = {3, 5, 7};
  ConvCase c;
  ConvParams& p = c.params;
  const int32_t k = kKernels[i % 3];
  const int32_t s = (i / 3) % 2 + 1;
  const uint32_t mode = (i / 6) % 4;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = s;
  int32_t pad_bottom = 0, pad_right = 0;
  c.in = {rng.Range(k, 20), rng.Range(k, 24), rng.Range(1, 19)};
  RandomPads(rng, k, &p.pad_top, &pad_bottom);
  RandomPads(rng, k, &p.pad_left, &pad_right);
  switch (mode) {
    case 0:
      c.label = "dm1";
      break;
    case 1:
      c.label = "in-place";
      c.in_place = true;
      break;
    case 2:
      c.label = "dm>1";
      p.depth_multiplier = rng.Range(2, 3);
      c.in.c = rng.Range(1, 9);
      break;
    default:
      c.label = "odd";
      p.kernel_w = kKernels[(i / 3) % 3];
      p.stride_w = rng.Range(1, 2);
      RandomPads(rng, p.kernel_w, &p.pad_left, &pad_right);
      if (c.in.w < p.kernel_w) c.in.w = p.kernel_w;
      break;
  }
  c.out.h = OutSize(c.in.h, p.kernel_h, p.stride_h, p.pad_top, pad_bottom);
  c.out.w = OutSize(c.in.w, p.kernel_w, p.stride_w, p.pad_left, pad_right);
  c.out.c = c.in.c * p.depth_multiplier;
  if (c.in_place && c.out.h * c.out.w > c.in.h * c.in.w) {
    // In place needs the output no larger than the input: use SAME pads.
    p.pad_top = p.pad_left = (k - 1) / 2;
    c.out.h = OutSize(c.in.h, k, s, p.pad_top, k - 1 - p.pad_top);
    c.out.w = OutSize(c.in.w, k, s, p.pad_left, k - 1 - p.pad_left);
  }
  c.bias = !rng.Percent(10);
  return c;
}

void RunConvCase(ConformanceOp op, uint32_t index, const KernelSet& candidate,
                 Arena& arena, ConformanceResult* result) {
  const bool depthwise = op == ConformanceOp::kDepthwise;
  Rng rng(0xC0DE0000u + static_cast<uint32_t>(op) * 7919u + index * 104729u);
  ConvCase c =
      depthwise ? MakeDepthwiseCase(index, rng) : MakeConvCase(index, rng);
  CaseReport report(result, op, index);
  report.Shape(c.label);
  report.Dims(c.in, c.out);
  report.Kernel(c.params.kernel_h, c.params.kernel_w, c.params.stride_h,
                c.params.stride_w);
  ++result->cases;

  const int32_t taps = c.params.kernel_h * c.params.kernel_w;
  const int32_t weight_count =
      depthwise ? taps * c.out.c : c.out.c * taps * c.in.c;
  const uint32_t in_bytes = static_cast<uint32_t>(c.in.Elements());
  const uint32_t out_bytes = static_cast<uint32_t>(c.out.Elements());
  const uint32_t scratch_bytes =
      depthwise ? DepthwiseScratchBytes(c.params, c.in, c.out)
                : ConvScratchBytes(c.params, c.in, c.out);
  const uint32_t cand_bytes =
      c.in_place ? (in_bytes > out_bytes ? in_bytes : out_bytes) : out_bytes;

  int8_t* input = arena.TakeI8(in_bytes);
  int8_t* weights = arena.TakeI8(static_cast<uint32_t>(weight_count));
  int32_t* bias = arena.TakeI32(static_cast<uint32_t>(c.out.c));
  int8_t* ref_out = arena.TakeI8(out_bytes);
  int8_t* ref_scratch = arena.TakeI8(scratch_bytes);
  int8_t* cand = arena.TakeI8(cand_bytes);
  int8_t* cand_scratch = arena.TakeI8(scratch_bytes);
  int8_t* pristine = arena.TakeI8(in_bytes);
  const DataRange data = RandomDataRange(rng);
  const int32_t depth = depthwise ? taps : taps * c.in.c;
  if (arena.exhausted() ||
      !RandomRequant(rng, arena, c.out.c, data.AccLog2(depth), data.zero_point,
                     &c.params.requant)) {
    report.Fail("work buffer too small", -1, 0, 0);
    return;
  }
  if (c.full_range) {
    c.params.requant.act_min = -128;
    c.params.requant.act_max = 127;
  }
  data.FillInput(rng, input, c.in.Elements());
  data.FillWeights(rng, weights, weight_count);
  for (int32_t o = 0; o < c.out.c; ++o) bias[o] = data.Bias(rng);
  const int32_t* bias_or_null = c.bias ? bias : nullptr;
  memcpy(pristine, input, in_bytes);
  memset(ref_out, kRefFill, out_bytes);
  FillRandom(rng, ref_scratch, static_cast<int32_t>(scratch_bytes));
  FillRandom(rng, cand_scratch, static_cast<int32_t>(scratch_bytes));

  const KernelSet& ref = ReferenceKernels();
  (depthwise ? ref.depthwise : ref.conv)(c.params, c.in, input, weights,
                                         bias_or_null, c.out, ref_out,
                                         ref_scratch);
  if (c.in_place) {
    memcpy(cand, input, in_bytes);
    candidate.depthwise(c.params, c.in, cand, weights, bias_or_null, c.out,
                        cand, cand_scratch);
  } else {
    memset(cand, kCandFill, cand_bytes);
    (depthwise ? candidate.depthwise : candidate.conv)(
        c.params, c.in, input, weights, bias_or_null, c.out, cand,
        cand_scratch);
    report.Compare(pristine, input, c.in.Elements());
  }
  report.Compare(ref_out, cand, c.out.Elements());
  report.CheckGuard(cand, cand_bytes, "wrote past its output");
  report.CheckGuard(cand_scratch, scratch_bytes, "wrote past its scratch");
}

void RunAddCase(uint32_t index, const KernelSet& candidate, Arena& arena,
                ConformanceResult* result) {
  Rng rng(0xADD00000u + index * 104729u);
  CaseReport report(result, ConformanceOp::kAdd, index);
  const uint32_t alias = index % 3;  // 0 none, 1 output = input1, 2 = input2
  report.Shape(alias == 0 ? "separate" : alias == 1 ? "out=in1" : "out=in2");
  ++result->cases;

  const int32_t n =
      index < 8 ? static_cast<int32_t>(index) + 1 : rng.Range(1, 3000);
  AddQuantParams p;
  p.input1_offset = -rng.Range(-128, 127);
  p.input2_offset = -rng.Range(-128, 127);
  p.output_offset = rng.Range(-128, 127);
  p.left_shift = 20;
  p.input1_multiplier = rng.Range(1 << 30, INT32_MAX);
  p.input2_multiplier = rng.Range(1 << 30, INT32_MAX);
  p.input1_shift = rng.Range(-3, 0);
  p.input2_shift = rng.Range(-3, 0);
  p.output_multiplier = rng.Range(1 << 30, INT32_MAX);
  p.output_shift = rng.Range(-22, -17);
  p.act_min = rng.Percent(50) ? -128 : rng.Range(-128, 0);
  p.act_max = rng.Percent(50) ? 127 : rng.Range(p.act_min, 127);

  const uint32_t bytes = static_cast<uint32_t>(n);
  int8_t* in1 = arena.TakeI8(bytes);
  int8_t* in2 = arena.TakeI8(bytes);
  int8_t* ref_out = arena.TakeI8(bytes);
  int8_t* cand1 = arena.TakeI8(bytes);
  int8_t* cand2 = arena.TakeI8(bytes);
  int8_t* cand_out = arena.TakeI8(bytes);
  if (arena.exhausted()) {
    report.Fail("work buffer too small", -1, 0, 0);
    return;
  }
  FillRandom(rng, in1, n);
  FillRandom(rng, in2, n);
  memcpy(cand1, in1, bytes);
  memcpy(cand2, in2, bytes);
  memset(ref_out, kRefFill, bytes);
  memset(cand_out, kCandFill, bytes);
  ReferenceKernels().add(p, n, in1, in2, ref_out);
  int8_t* out = alias == 0 ? cand_out : alias == 1 ? cand1 : cand2;
  candidate.add(p, n, cand1, cand2, out);
  report.Compare(ref_out, out, n);
  if (alias != 1) report.Compare(in1, cand1, n);
  if (alias != 2) report.Compare(in2, cand2, n);
  report.CheckGuard(out, bytes, "wrote past its output");
}

void RunPoolCase(uint32_t index, const KernelSet& candidate, Arena& arena,
                 ConformanceResult* result) {
  Rng rng(0x9001u + index * 104729u);
  CaseReport report(result, ConformanceOp::kAveragePool, index);
  ++result->cases;
  PoolParams p;
  Shape3 in = {rng.Range(1, 16), rng.Range(1, 16), rng.Range(1, 19)};
  int32_t pad_bottom = 0, pad_right = 0;
  switch (index % 4) {
    case 0:
      report.Shape("global");
      p.kernel_h = in.h;
      p.kernel_w = in.w;
      break;
    case 1:
      report.Shape("k2s2");
      in.h += 1;
      in.w += 1;
      p.kernel_h = p.kernel_w = 2;
      p.stride_h = p.stride_w = 2;
      break;
    default:
      report.Shape("window");
      in.h += 2;
      in.w += 2;
      p.kernel_h = rng.Range(1, 3);
      p.kernel_w = rng.Range(1, 3);
      p.stride_h = rng.Range(1, 2);
      p.stride_w = rng.Range(1, 2);
      RandomPads(rng, p.kernel_h, &p.pad_top, &pad_bottom);
      RandomPads(rng, p.kernel_w, &p.pad_left, &pad_right);
      break;
  }
  const Shape3 out = {
      OutSize(in.h, p.kernel_h, p.stride_h, p.pad_top, pad_bottom),
      OutSize(in.w, p.kernel_w, p.stride_w, p.pad_left, pad_right), in.c};
  report.Dims(in, out);
  report.Kernel(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w);
  p.act_min = rng.Percent(60) ? -128 : rng.Range(-128, 0);
  p.act_max = rng.Percent(60) ? 127 : rng.Range(p.act_min, 127);

  const uint32_t in_bytes = static_cast<uint32_t>(in.Elements());
  const uint32_t out_bytes = static_cast<uint32_t>(out.Elements());
  int8_t* input = arena.TakeI8(in_bytes);
  int8_t* pristine = arena.TakeI8(in_bytes);
  int8_t* ref_out = arena.TakeI8(out_bytes);
  int8_t* cand_out = arena.TakeI8(out_bytes);
  if (arena.exhausted()) {
    report.Fail("work buffer too small", -1, 0, 0);
    return;
  }
  FillRandom(rng, input, in.Elements());
  memcpy(pristine, input, in_bytes);
  memset(ref_out, kRefFill, out_bytes);
  memset(cand_out, kCandFill, out_bytes);
  ReferenceKernels().average_pool(p, in, input, out, ref_out);
  candidate.average_pool(p, in, input, out, cand_out);
  report.Compare(ref_out, cand_out, out.Elements());
  report.Compare(pristine, input, in.Elements());
  report.CheckGuard(cand_out, out_bytes, "wrote past its output");
}

void RunFullyConnectedCase(uint32_t index, const KernelSet& candidate,
                           Arena& arena, ConformanceResult* result) {
  Rng rng(0xFC000000u + index * 104729u);
  CaseReport report(result, ConformanceOp::kFullyConnected, index);
  report.Shape("fc");
  ++result->cases;
  const int32_t in_n =
      index < 16 ? static_cast<int32_t>(index) + 1 : rng.Range(1, 400);
  const int32_t out_n = rng.Range(1, 40);
  report.Dims({1, 1, in_n}, {1, 1, out_n});
  RequantParams rq;
  const uint32_t in_bytes = static_cast<uint32_t>(in_n);
  const uint32_t out_bytes = static_cast<uint32_t>(out_n);
  int8_t* input = arena.TakeI8(in_bytes);
  int8_t* pristine = arena.TakeI8(in_bytes);
  int8_t* weights = arena.TakeI8(in_bytes * out_bytes);
  int32_t* bias = arena.TakeI32(out_bytes);
  int8_t* ref_out = arena.TakeI8(out_bytes);
  int8_t* cand_out = arena.TakeI8(out_bytes);
  const DataRange data = RandomDataRange(rng);
  if (arena.exhausted() || !RandomRequant(rng, arena, out_n, data.AccLog2(in_n),
                                          data.zero_point, &rq)) {
    report.Fail("work buffer too small", -1, 0, 0);
    return;
  }
  data.FillInput(rng, input, in_n);
  data.FillWeights(rng, weights, in_n * out_n);
  for (int32_t o = 0; o < out_n; ++o) bias[o] = data.Bias(rng);
  const int32_t* bias_or_null = rng.Percent(90) ? bias : nullptr;
  memcpy(pristine, input, in_bytes);
  memset(ref_out, kRefFill, out_bytes);
  memset(cand_out, kCandFill, out_bytes);
  ReferenceKernels().fully_connected(rq, in_n, input, weights, bias_or_null,
                                     out_n, ref_out);
  candidate.fully_connected(rq, in_n, input, weights, bias_or_null, out_n,
                            cand_out);
  report.Compare(ref_out, cand_out, out_n);
  report.Compare(pristine, input, in_n);
  report.CheckGuard(cand_out, out_bytes, "wrote past its output");
}

void RunOp(ConformanceOp op, const KernelSet& candidate, uint8_t* work,
           uint32_t work_bytes, ConformanceResult* result) {
  const uint32_t cases = kCasesPerOp[static_cast<uint32_t>(op)];
  for (uint32_t i = 0; i < cases; ++i) {
    Arena arena(work, work_bytes);  // each case starts from an empty buffer
    switch (op) {
      case ConformanceOp::kConv:
      case ConformanceOp::kDepthwise:
        RunConvCase(op, i, candidate, arena, result);
        break;
      case ConformanceOp::kAdd:
        RunAddCase(i, candidate, arena, result);
        break;
      case ConformanceOp::kAveragePool:
        RunPoolCase(i, candidate, arena, result);
        break;
      case ConformanceOp::kFullyConnected:
        RunFullyConnectedCase(i, candidate, arena, result);
        break;
    }
  }
}

ConformanceResult EmptyResult() {
  ConformanceResult r;
  r.cases = 0;
  r.mismatches = 0;
  r.first_failure[0] = '\0';
  return r;
}

}  // namespace

ConformanceResult RunKernelConformanceForOp(ConformanceOp op,
                                            const KernelSet& candidate,
                                            uint8_t* work,
                                            uint32_t work_bytes) {
  ConformanceResult result = EmptyResult();
  RunOp(op, candidate, work, work_bytes, &result);
  return result;
}

ConformanceResult RunKernelConformance(const KernelSet& candidate,
                                       uint8_t* work, uint32_t work_bytes) {
  ConformanceResult result = EmptyResult();
  for (uint32_t op = 0; op < kConformanceOpCount; ++op) {
    RunOp(static_cast<ConformanceOp>(op), candidate, work, work_bytes, &result);
  }
  return result;
}

}  // namespace mcunas::engine
