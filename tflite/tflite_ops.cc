// One converter per TFLite op family (see tflite_importer.h). Each checks
// what TFLite Micro's Prepare would check and what the engine needs, and
// says which it was (Unimplemented or InvalidArgument).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mcunas/common/status_macros.h"
#include "tflite/tflite_importer.h"

namespace mcunas::tflite {
namespace {

using engine::OpType;
using engine::QuantOp;
using engine::QuantTensor;

constexpr int32_t kMaxWindow = 255;  // kernel, stride and pad fields are 8-bit

absl::Status Arity(const std::vector<int32_t>& in,
                   const std::vector<int32_t>& out, size_t min_inputs,
                   size_t max_inputs) {
  if (in.size() < min_inputs || in.size() > max_inputs || out.size() != 1 ||
      in[0] < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("has ", in.size(), " inputs and ", out.size(),
                     " outputs (wants ", min_inputs, "..", max_inputs,
                     " and 1)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<engine::Activation> FusedActivation(
    fb::ActivationFunctionType f) {
  switch (f) {
    case fb::ActivationFunctionType::NONE:
      return engine::Activation::kNone;
    case fb::ActivationFunctionType::RELU:
      return engine::Activation::kRelu;
    case fb::ActivationFunctionType::RELU6:
      return engine::Activation::kRelu6;
    default: {
      const char* name = fb::EnumNameActivationFunctionType(f);
      if (name == nullptr || name[0] == '\0') {
        return absl::InvalidArgumentError(absl::StrCat(
            "fused activation enum ", static_cast<int>(f)));
      }
      return absl::UnimplementedError(
          absl::StrCat("fused activation ", name));
    }
  }
}

absl::Status CheckWindow(int32_t kernel_h, int32_t kernel_w, int32_t stride_h,
                         int32_t stride_w) {
  if (stride_h < 1 || stride_w < 1 || kernel_h < 1 || kernel_w < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel ", kernel_h, "x", kernel_w, ", stride ",
                     stride_h, "x", stride_w));
  }
  if (stride_h > kMaxWindow || stride_w > kMaxWindow ||
      kernel_h > kMaxWindow || kernel_w > kMaxWindow) {
    return absl::UnimplementedError(
        absl::StrCat("kernel ", kernel_h, "x", kernel_w, ", stride ",
                     stride_h, "x", stride_w, " (at most 255)"));
  }
  return absl::OkStatus();
}

// One spatial dimension of a conv/pool window: SAME or VALID over `in`.
absl::StatusOr<engine::SamePadding> WindowPadding(fb::Padding padding,
                                                  int32_t in, int32_t kernel,
                                                  int32_t stride) {
  if (padding == fb::Padding::SAME) {
    return engine::ComputeSamePadding(in, kernel, stride);
  }
  if (padding != fb::Padding::VALID) {
    return absl::InvalidArgumentError(
        absl::StrCat("padding enum ", static_cast<int>(padding)));
  }
  if (in < kernel) {
    return absl::InvalidArgumentError(
        absl::StrCat("VALID window ", kernel, " larger than input ", in));
  }
  return engine::SamePadding{(in - kernel) / stride + 1, 0, 0};
}

int64_t Elements(const std::vector<int32_t>& shape) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

// The fields Conv2DOptions and DepthwiseConv2DOptions share.
struct ConvParams {
  fb::Padding padding;
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w;
  fb::ActivationFunctionType activation;
};

template <typename Options>
ConvParams ReadConvParams(const Options& o) {
  return ConvParams{o.padding(),           o.stride_h(),
                    o.stride_w(),          o.dilation_h_factor(),
                    o.dilation_w_factor(), o.fused_activation_function()};
}

QuantOp OpOfType(OpType type) {
  QuantOp q;
  q.type = type;
  return q;
}

void SetPadding(int32_t top, int32_t bottom, int32_t left, int32_t right,
                QuantOp* q) {
  q->pad_top = top;
  q->pad_bottom = bottom;
  q->pad_left = left;
  q->pad_right = right;
}

}  // namespace

absl::StatusOr<Importer::OpIo> Importer::ReadOpIo(int32_t i, size_t min_inputs,
                                                  size_t max_inputs) const {
  OpIo io;
  MCUNAS_ASSIGN_OR_RETURN(io.in, reader_.OpInputs(i));
  MCUNAS_ASSIGN_OR_RETURN(io.out, reader_.OpOutputs(i));
  MCUNAS_RETURN_IF_ERROR(Arity(io.in, io.out, min_inputs, max_inputs));
  return io;
}

absl::Status Importer::SpatialPads(int32_t i, PadFold* pads) const {
  MCUNAS_ASSIGN_OR_RETURN(const OpIo io, ReadOpIo(i, 2, 3));
  const auto& [in, out] = io;
  if (in[1] < 0) return absl::InvalidArgumentError("no paddings tensor");
  MCUNAS_ASSIGN_OR_RETURN(const TensorInfo x, reader_.Tensor(in[0]));
  MCUNAS_ASSIGN_OR_RETURN(const TensorInfo y, reader_.Tensor(out[0]));
  MCUNAS_ASSIGN_OR_RETURN(const std::vector<int64_t> p, IntValues(in[1]));
  if (x.shape.size() != 4 || p.size() != 8) {
    return absl::UnimplementedError(
        absl::StrCat("padding of a rank-", x.shape.size(),
                     " tensor (only {1,H,W,C})"));
  }
  for (int64_t v : p) {
    if (v < 0 || v > kMaxWindow) {
      return absl::UnimplementedError(
          absl::StrCat("padding ", v, " (0..255 only)"));
    }
  }
  if (p[0] != 0 || p[1] != 0 || p[6] != 0 || p[7] != 0) {
    return absl::UnimplementedError("padding of batch or channels");
  }
  if (y.zero_points.size() != 1) {
    return absl::UnimplementedError("output without one zero point");
  }
  if (in.size() == 3 && in[2] >= 0) {
    MCUNAS_ASSIGN_OR_RETURN(const TensorInfo v, reader_.Tensor(in[2]));
    if (!v.constant() || v.type != fb::TensorType::INT8 || v.elements != 1 ||
        static_cast<int8_t>(v.data[0]) != y.zero_points[0]) {
      return absl::UnimplementedError(
          "PADV2 with a pad value other than the output zero point");
    }
  }
  pads->source = in[0];
  pads->top = static_cast<int32_t>(p[2]);
  pads->bottom = static_cast<int32_t>(p[3]);
  pads->left = static_cast<int32_t>(p[4]);
  pads->right = static_cast<int32_t>(p[5]);
  return absl::OkStatus();
}

bool Importer::PadFoldFor(int32_t pad, int32_t conv, PadFold* fold) const {
  PadFold pads;
  if (!SpatialPads(pad, &pads).ok()) return false;
  const absl::StatusOr<std::vector<int32_t>> pad_out = reader_.OpOutputs(pad);
  const absl::StatusOr<std::vector<int32_t>> conv_in = reader_.OpInputs(conv);
  if (!pad_out.ok() || !conv_in.ok() || conv_in->size() < 2 ||
      (*conv_in)[1] < 0) {
    return false;
  }
  const absl::StatusOr<TensorInfo> x = reader_.Tensor(pads.source);
  const absl::StatusOr<TensorInfo> y = reader_.Tensor((*pad_out)[0]);
  const absl::StatusOr<TensorInfo> w = reader_.Tensor((*conv_in)[1]);
  // The convolution reads the PAD's input in its place, so both must mean
  // the same thing byte for byte; and the implicit padding value is the
  // input zero point, which is exactly what PAD filled in.
  if (!x.ok() || !y.ok() || !w.ok() || x->shape.size() != 4 ||
      w->shape.size() != 4 || x->scales.size() != 1 ||
      y->scales.size() != 1 ||
      std::memcmp(&x->scales[0], &y->scales[0], sizeof(float)) != 0 ||
      x->zero_points[0] != y->zero_points[0]) {
    return false;
  }
  const fb::Operator& op = reader_.op(conv);
  ConvParams c;
  if (const auto* o = op.builtin_options_as_Conv2DOptions()) {
    c = ReadConvParams(*o);
  } else if (const auto* d = op.builtin_options_as_DepthwiseConv2DOptions()) {
    c = ReadConvParams(*d);
  } else {
    return false;
  }
  const int32_t kernel_h = w->shape[1];
  const int32_t kernel_w = w->shape[2];
  if (c.dilation_h != 1 || c.dilation_w != 1 ||
      !CheckWindow(kernel_h, kernel_w, c.stride_h, c.stride_w).ok()) {
    return false;
  }
  const int64_t padded_h = int64_t{x->shape[1]} + pads.top + pads.bottom;
  const int64_t padded_w = int64_t{x->shape[2]} + pads.left + pads.right;
  if (padded_h > kMaxTfliteDim || padded_w > kMaxTfliteDim) return false;
  const absl::StatusOr<engine::SamePadding> ph = WindowPadding(
      c.padding, static_cast<int32_t>(padded_h), kernel_h, c.stride_h);
  const absl::StatusOr<engine::SamePadding> pw = WindowPadding(
      c.padding, static_cast<int32_t>(padded_w), kernel_w, c.stride_w);
  if (!ph.ok() || !pw.ok()) return false;
  pads.top += ph->before;
  pads.bottom += ph->after;
  pads.left += pw->before;
  pads.right += pw->after;
  // The engine's convolutions need every padding smaller than the kernel.
  if (pads.top >= kernel_h || pads.bottom >= kernel_h ||
      pads.left >= kernel_w || pads.right >= kernel_w) {
    return false;
  }
  pads.pad_op = pad;
  *fold = pads;
  return true;
}

absl::Status Importer::ConvertConv(int32_t i, bool depthwise) {
  MCUNAS_ASSIGN_OR_RETURN(const OpIo io, ReadOpIo(i, 2, 3));
  const auto& [in, out] = io;
  const fb::Operator& op = reader_.op(i);
  ConvParams c;
  if (depthwise) {
    const auto* o = op.builtin_options_as_DepthwiseConv2DOptions();
    if (o == nullptr) {
      return absl::InvalidArgumentError("missing DepthwiseConv2DOptions");
    }
    c = ReadConvParams(*o);
  } else {
    const auto* o = op.builtin_options_as_Conv2DOptions();
    if (o == nullptr) return absl::InvalidArgumentError("missing Conv2DOptions");
    c = ReadConvParams(*o);
  }
  if (c.dilation_h != 1 || c.dilation_w != 1) {
    return absl::UnimplementedError(
        absl::StrCat("dilation ", c.dilation_h, "x", c.dilation_w));
  }
  QuantOp q = OpOfType(depthwise ? OpType::kDepthwiseConv2D : OpType::kConv2D);
  MCUNAS_ASSIGN_OR_RETURN(q.activation, FusedActivation(c.activation));
  const PadFold& fold = fold_[i];
  MCUNAS_ASSIGN_OR_RETURN(const int32_t x,
                          Activation(fold.pad_op >= 0 ? fold.source : in[0]));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t y, Activation(out[0]));
  MCUNAS_ASSIGN_OR_RETURN(const TensorInfo w, reader_.Tensor(in[1]));
  if (tensor(x).shape.size() != 4 || tensor(y).shape.size() != 4 ||
      w.shape.size() != 4) {
    return absl::InvalidArgumentError("input, weights and output must be 4D");
  }
  const std::vector<int32_t>& xs = tensor(x).shape;
  const std::vector<int32_t>& ys = tensor(y).shape;
  const int32_t channels = depthwise ? w.shape[3] : w.shape[0];
  if (depthwise) {
    if (w.shape[0] != 1 || channels % xs[3] != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "depthwise weights ", ShapeString(w.shape), " for ", xs[3],
          " input channels"));
    }
    q.depth_multiplier = channels / xs[3];
    if (q.depth_multiplier > kMaxWindow) {
      return absl::UnimplementedError(
          absl::StrCat("depth multiplier ", q.depth_multiplier));
    }
  } else if (w.shape[3] != xs[3]) {
    return absl::UnimplementedError(absl::StrCat(
        "grouped convolution (weights take ", w.shape[3], " channels, input has ",
        xs[3], ")"));
  }
  if (ys[3] != channels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output has ", ys[3], " channels, weights ", channels));
  }
  q.kernel_h = w.shape[1];
  q.kernel_w = w.shape[2];
  q.stride_h = c.stride_h;
  q.stride_w = c.stride_w;
  MCUNAS_RETURN_IF_ERROR(
      CheckWindow(q.kernel_h, q.kernel_w, q.stride_h, q.stride_w));
  if (fold.pad_op >= 0) {
    SetPadding(fold.top, fold.bottom, fold.left, fold.right, &q);
  } else {
    MCUNAS_ASSIGN_OR_RETURN(
        const engine::SamePadding ph,
        WindowPadding(c.padding, xs[1], q.kernel_h, q.stride_h));
    MCUNAS_ASSIGN_OR_RETURN(
        const engine::SamePadding pw,
        WindowPadding(c.padding, xs[2], q.kernel_w, q.stride_w));
    SetPadding(ph.before, ph.after, pw.before, pw.after, &q);
  }
  const int64_t out_h =
      (int64_t{xs[1]} + q.pad_top + q.pad_bottom - q.kernel_h) / q.stride_h + 1;
  const int64_t out_w =
      (int64_t{xs[2]} + q.pad_left + q.pad_right - q.kernel_w) / q.stride_w + 1;
  if (out_h != ys[1] || out_w != ys[2]) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output ", ShapeString(ys), " does not follow from input ",
        ShapeString(xs), ", kernel and stride (", out_h, "x", out_w, ")"));
  }
  if (q.pad_top >= q.kernel_h || q.pad_bottom >= q.kernel_h ||
      q.pad_left >= q.kernel_w || q.pad_right >= q.kernel_w) {
    return absl::UnimplementedError("padding not smaller than the kernel");
  }
  MCUNAS_ASSIGN_OR_RETURN(const int32_t weights,
                          Weights(in[1], depthwise ? 3 : 0, channels));
  int32_t bias = -1;
  if (in.size() == 3 && in[2] >= 0) {
    MCUNAS_ASSIGN_OR_RETURN(bias, Bias(in[2], channels));
  }
  return AddOp(i, std::move(q), {x, weights, bias}, y);
}

absl::Status Importer::ConvertPool(int32_t i) {
  MCUNAS_ASSIGN_OR_RETURN(const OpIo io, ReadOpIo(i, 1, 1));
  const auto& [in, out] = io;
  const auto* o = reader_.op(i).builtin_options_as_Pool2DOptions();
  if (o == nullptr) return absl::InvalidArgumentError("missing Pool2DOptions");
  QuantOp q = OpOfType(OpType::kAveragePool2D);
  MCUNAS_ASSIGN_OR_RETURN(q.activation,
                          FusedActivation(o->fused_activation_function()));
  q.kernel_h = o->filter_height();
  q.kernel_w = o->filter_width();
  q.stride_h = o->stride_h();
  q.stride_w = o->stride_w();
  MCUNAS_RETURN_IF_ERROR(
      CheckWindow(q.kernel_h, q.kernel_w, q.stride_h, q.stride_w));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t x, Activation(in[0]));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t y, Activation(out[0]));
  const QuantTensor& xt = tensor(x);
  const QuantTensor& yt = tensor(y);
  if (xt.shape.size() != 4 || yt.shape.size() != 4 ||
      xt.shape[3] != yt.shape[3]) {
    return absl::InvalidArgumentError("input and output must be 4D, same C");
  }
  // TFLite's int8 pool does not requantise: different quantisation would
  // silently change the values' meaning.
  if (xt.scale != yt.scale || xt.zero_point != yt.zero_point) {
    return absl::UnimplementedError(
        "input and output quantisation differ");
  }
  MCUNAS_ASSIGN_OR_RETURN(
      const engine::SamePadding ph,
      WindowPadding(o->padding(), xt.shape[1], q.kernel_h, q.stride_h));
  MCUNAS_ASSIGN_OR_RETURN(
      const engine::SamePadding pw,
      WindowPadding(o->padding(), xt.shape[2], q.kernel_w, q.stride_w));
  if (ph.out != yt.shape[1] || pw.out != yt.shape[2]) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output ", ShapeString(yt.shape), " does not follow from input ",
        ShapeString(xt.shape)));
  }
  SetPadding(ph.before, ph.after, pw.before, pw.after, &q);
  return AddOp(i, std::move(q), {x}, y);
}

absl::Status Importer::ConvertFullyConnected(int32_t i) {
  MCUNAS_ASSIGN_OR_RETURN(const OpIo io, ReadOpIo(i, 2, 3));
  const auto& [in, out] = io;
  QuantOp q = OpOfType(OpType::kFullyConnected);
  if (const auto* o = reader_.op(i).builtin_options_as_FullyConnectedOptions()) {
    if (o->weights_format() != fb::FullyConnectedOptionsWeightsFormat::DEFAULT) {
      return absl::UnimplementedError("shuffled weights format");
    }
    MCUNAS_ASSIGN_OR_RETURN(q.activation,
                            FusedActivation(o->fused_activation_function()));
  }
  MCUNAS_ASSIGN_OR_RETURN(const TensorInfo w, reader_.Tensor(in[1]));
  if (w.shape.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights ", ShapeString(w.shape), " are not [out, in]"));
  }
  MCUNAS_ASSIGN_OR_RETURN(const int32_t x, Activation(in[0]));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t y, Activation(out[0]));
  const int64_t in_elements = Elements(tensor(x).shape);
  if (in_elements != w.shape[1]) {
    if (in_elements % w.shape[1] == 0) {
      return absl::UnimplementedError(absl::StrCat(
          "batch ", in_elements / w.shape[1], " (the engine runs batch 1)"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "input has ", in_elements, " elements, weights take ", w.shape[1]));
  }
  if (Elements(tensor(y).shape) != w.shape[0]) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output has ", Elements(tensor(y).shape), " elements, weights give ",
        w.shape[0]));
  }
  MCUNAS_ASSIGN_OR_RETURN(const int32_t weights,
                          Weights(in[1], 0, w.shape[0]));
  int32_t bias = -1;
  if (in.size() == 3 && in[2] >= 0) {
    MCUNAS_ASSIGN_OR_RETURN(bias, Bias(in[2], w.shape[0]));
  }
  return AddOp(i, std::move(q), {x, weights, bias}, y);
}

absl::Status Importer::ConvertAdd(int32_t i) {
  MCUNAS_ASSIGN_OR_RETURN(const OpIo io, ReadOpIo(i, 2, 2));
  const auto& [in, out] = io;
  if (in[1] < 0) return absl::InvalidArgumentError("second input missing");
  QuantOp q = OpOfType(OpType::kAdd);
  if (const auto* o = reader_.op(i).builtin_options_as_AddOptions()) {
    MCUNAS_ASSIGN_OR_RETURN(q.activation,
                            FusedActivation(o->fused_activation_function()));
  }
  MCUNAS_ASSIGN_OR_RETURN(const int32_t a, Activation(in[0]));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t b, Activation(in[1]));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t y, Activation(out[0]));
  if (tensor(a).shape != tensor(y).shape ||
      tensor(b).shape != tensor(y).shape) {
    return absl::UnimplementedError(absl::StrCat(
        "broadcasting ", ShapeString(tensor(a).shape), " + ",
        ShapeString(tensor(b).shape)));
  }
  return AddOp(i, std::move(q), {a, b}, y);
}

absl::Status Importer::ConvertReshape(int32_t i) {
  MCUNAS_ASSIGN_OR_RETURN(const OpIo io, ReadOpIo(i, 1, 2));
  const auto& [in, out] = io;
  MCUNAS_ASSIGN_OR_RETURN(const int32_t x, Activation(in[0]));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t y, Activation(out[0]));
  if (Elements(tensor(x).shape) != Elements(tensor(y).shape)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reshapes ", ShapeString(tensor(x).shape), " to ",
        ShapeString(tensor(y).shape)));
  }
  return AddOp(i, OpOfType(OpType::kReshape), {x}, y);
}

absl::Status Importer::ConvertSoftmax(int32_t i) {
  MCUNAS_ASSIGN_OR_RETURN(const OpIo io, ReadOpIo(i, 1, 1));
  const auto& [in, out] = io;
  const auto* o = reader_.op(i).builtin_options_as_SoftmaxOptions();
  if (o == nullptr) return absl::InvalidArgumentError("missing SoftmaxOptions");
  if (!(o->beta() > 0.0f) || !std::isfinite(o->beta())) {
    return absl::InvalidArgumentError(absl::StrCat("beta ", o->beta()));
  }
  MCUNAS_ASSIGN_OR_RETURN(const int32_t x, Activation(in[0]));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t y, Activation(out[0]));
  if (tensor(x).shape != tensor(y).shape) {
    return absl::InvalidArgumentError("input and output shapes differ");
  }
  const QuantTensor& yt = tensor(y);
  if (yt.zero_point != -128 ||
      std::fabs(yt.scale - 1.0f / 256) > 0.001f / 256) {
    return absl::UnimplementedError(absl::StrCat(
        "output scale ", yt.scale, ", zero point ", yt.zero_point,
        " (TFLite Micro's int8 softmax needs 1/256 and -128)"));
  }
  QuantOp q = OpOfType(OpType::kSoftmax);
  q.beta = o->beta();
  return AddOp(i, std::move(q), {x}, y);
}

absl::Status Importer::ConvertMean(int32_t i) {
  MCUNAS_ASSIGN_OR_RETURN(const OpIo io, ReadOpIo(i, 2, 2));
  const auto& [in, out] = io;
  if (in[1] < 0) return absl::InvalidArgumentError("no axis tensor");
  MCUNAS_ASSIGN_OR_RETURN(const std::vector<int64_t> axes, IntValues(in[1]));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t x, Activation(in[0]));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t y, Activation(out[0]));
  const QuantTensor& xt = tensor(x);
  std::set<int64_t> resolved;
  for (int64_t a : axes) resolved.insert(a < 0 ? a + 4 : a);
  if (xt.shape.size() != 4 || resolved != std::set<int64_t>{1, 2}) {
    return absl::UnimplementedError(absl::StrCat(
        "mean over axes [", absl::StrJoin(axes, ","), "] of ",
        ShapeString(xt.shape), " (only H and W of a 4D tensor)"));
  }
  if (Elements(tensor(y).shape) != xt.shape[3]) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output ", ShapeString(tensor(y).shape), " for ", xt.shape[3],
        " channels"));
  }
  return AddOp(i, OpOfType(OpType::kMean), {x}, y);
}

absl::Status Importer::ConvertTranspose(int32_t i) {
  MCUNAS_ASSIGN_OR_RETURN(const OpIo io, ReadOpIo(i, 2, 2));
  const auto& [in, out] = io;
  if (in[1] < 0) return absl::InvalidArgumentError("no permutation tensor");
  MCUNAS_ASSIGN_OR_RETURN(const std::vector<int64_t> perm, IntValues(in[1]));
  MCUNAS_ASSIGN_OR_RETURN(const TensorInfo xi, reader_.Tensor(in[0]));
  const size_t rank = xi.shape.size();
  bool valid = perm.size() == rank;
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || static_cast<size_t>(p) >= rank || seen[p]) {
      valid = false;
      break;
    }
    seen[p] = true;
  }
  if (!valid) {
    return absl::InvalidArgumentError(absl::StrCat(
        "permutation [", absl::StrJoin(perm, ","), "] for rank ", rank));
  }
  MCUNAS_ASSIGN_OR_RETURN(const int32_t x, Activation(in[0]));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t y, Activation(out[0]));
  bool identity = true;
  for (size_t k = 0; k < rank; ++k) identity = identity && perm[k] == int64_t(k);
  if (identity) return AddOp(i, OpOfType(OpType::kReshape), {x}, y);
  // The engine's tensor is the file's with leading ones (see Activation).
  if (rank < 3) {
    return absl::UnimplementedError(
        absl::StrCat("transpose of a rank-", rank, " tensor moves its batch"));
  }
  const int32_t offset = static_cast<int32_t>(4 - rank);
  QuantOp q = OpOfType(OpType::kTranspose);
  q.perm = {0, 1, 2, 3};
  for (size_t k = 0; k < rank; ++k) {
    q.perm[offset + k] = offset + static_cast<int32_t>(perm[k]);
  }
  std::vector<int32_t> want(4);
  for (int d = 0; d < 4; ++d) want[d] = tensor(x).shape[q.perm[d]];
  if (want[0] != 1) {
    return absl::UnimplementedError("transpose moves a dimension into batch");
  }
  if (tensor(x).shape.size() != 4 || tensor(y).shape != want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output ", ShapeString(tensor(y).shape), ", permutation gives ",
        ShapeString(want)));
  }
  return AddOp(i, std::move(q), {x}, y);
}

absl::Status Importer::ConvertPad(int32_t i) {
  PadFold pads;
  MCUNAS_RETURN_IF_ERROR(SpatialPads(i, &pads));
  MCUNAS_ASSIGN_OR_RETURN(const std::vector<int32_t> out,
                          reader_.OpOutputs(i));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t x, Activation(pads.source));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t y, Activation(out[0]));
  const std::vector<int32_t>& xs = tensor(x).shape;
  const std::vector<int32_t> want = {1, xs[1] + pads.top + pads.bottom,
                                     xs[2] + pads.left + pads.right, xs[3]};
  if (tensor(y).shape != want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output ", ShapeString(tensor(y).shape), ", paddings give ",
        ShapeString(want)));
  }
  QuantOp q = OpOfType(OpType::kPad);
  SetPadding(pads.top, pads.bottom, pads.left, pads.right, &q);
  return AddOp(i, std::move(q), {x}, y);
}

absl::Status Importer::ConvertQuantize(int32_t i) {
  MCUNAS_ASSIGN_OR_RETURN(const OpIo io, ReadOpIo(i, 1, 1));
  const auto& [in, out] = io;
  MCUNAS_ASSIGN_OR_RETURN(const TensorInfo xi, reader_.Tensor(in[0]));
  MCUNAS_ASSIGN_OR_RETURN(const TensorInfo yi, reader_.Tensor(out[0]));
  if (xi.type != fb::TensorType::INT8 || yi.type != fb::TensorType::INT8) {
    return absl::UnimplementedError(absl::StrCat(
        TypeName(xi.type), " to ", TypeName(yi.type),
        xi.type == fb::TensorType::FLOAT32
            ? " inside the graph (only at a model input)"
            : ""));
  }
  MCUNAS_ASSIGN_OR_RETURN(const int32_t x, Activation(in[0]));
  MCUNAS_ASSIGN_OR_RETURN(const int32_t y, Activation(out[0]));
  if (tensor(x).shape != tensor(y).shape) {
    return absl::InvalidArgumentError("input and output shapes differ");
  }
  return AddOp(i, OpOfType(OpType::kQuantize), {x}, y);
}

}  // namespace mcunas::tflite
