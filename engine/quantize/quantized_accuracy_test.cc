// The quantiser's acceptance test: random MobileNetV2-style models, quantised
// and run on the int8 engine (writer -> loader -> interpreter, with both the
// reference and the optimised kernels), must pick the float model's top-1
// class on at least 98% of held-out inputs; and op by op the engine must
// compute what its quantised parameters say, to within half a step.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mcunas/engine/host/float_reference.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/host/quantizer.h"
#include "mcunas/engine/host/random_model.h"
#include "mcunas/engine/interpreter.h"
#include "mcunas/engine/kernels.h"

namespace mcunas::engine {
namespace {

constexpr int kCalibrationInputs = 64;
constexpr int kTestInputs = 150;  // per model; 4 models -> 600
constexpr uint32_t kCalibrationSample = 1000;
constexpr uint32_t kTestSample = 2000;

struct ModelCase {
  const char* label;
  uint32_t seed;
  RandomMbv2Options options;
};

std::vector<ModelCase> Cases() {
  std::vector<ModelCase> cases;
  cases.push_back({"default k3/5/7", 1, {}});

  ModelCase k3{"k3, stem stride 1, R24", 2, {}};
  k3.options.resolution = 24;
  k3.options.stem_stride = 1;
  k3.options.kernel_choices = {3};
  k3.options.stages = {{16, 1, 1, 1}, {24, 2, 2}, {32, 2, 2}, {64, 1, 2}};
  cases.push_back(k3);

  ModelCase k7{"k7 e6, 20 classes", 3, {}};
  k7.options.kernel_choices = {7};
  k7.options.expand_choices = {6};
  k7.options.classes = 20;
  cases.push_back(k7);

  ModelCase wide{"W0.75 k5, R40 gray", 4, {}};
  wide.options.resolution = 40;
  wide.options.input_channels = 1;
  wide.options.width_multiplier = 0.75f;
  wide.options.kernel_choices = {5};
  wide.options.stages = {{16, 1, 1, 1}, {24, 2, 2}, {40, 3, 2}, {80, 1, 2}};
  cases.push_back(wide);
  return cases;
}

// Sample `sample` of class sample % classes. The model was built from
// samples below samples_per_class; calibration and test use disjoint ranges
// above it.
std::vector<float> Image(const ModelCase& c, uint32_t sample) {
  return RandomClassImage(c.seed, c.options,
                          static_cast<int32_t>(sample % c.options.classes),
                          sample);
}

template <typename T>
int32_t ArgMax(const T* values, size_t count) {
  return static_cast<int32_t>(std::max_element(values, values + count) -
                              values);
}

// A 16-byte aligned arena.
struct alignas(16) ArenaBlock {
  uint8_t bytes[16];
};

class Int8Runner {
 public:
  Int8Runner(const Model& model, const KernelSet& kernels)
      : model_(model),
        arena_((model.arena_bytes() + 15) / 16 + 1),
        interpreter_(model, kernels) {}

  bool Init() {
    return interpreter_.Init(arena_[0].bytes,
                             static_cast<uint32_t>(arena_.size() * 16)) ==
           Status::kOk;
  }

  // Quantises `input` with the model's input parameters, runs the model and
  // returns the int8 output (empty on failure).
  std::vector<int8_t> Run(const std::vector<float>& input) {
    const TensorRecord& in = model_.tensor(model_.input(0));
    const std::vector<int8_t> q =
        QuantizeValues({in.scale, in.zero_point}, input);
    if (q.size() != interpreter_.InputBytes(0)) return {};
    std::copy(q.begin(), q.end(), interpreter_.Input(0));
    if (interpreter_.Invoke() != Status::kOk) return {};
    const int8_t* out = interpreter_.Output(0);
    return std::vector<int8_t>(out, out + interpreter_.OutputBytes(0));
  }

 private:
  const Model& model_;
  std::vector<ArenaBlock> arena_;
  Interpreter interpreter_;
};

struct Agreement {
  int agree = 0;
  int total = 0;
  double Rate() const { return total == 0 ? 0.0 : double(agree) / total; }
};

// Quantises `c` with `method`, runs the held-out inputs through float and
// int8 (both kernel sets) and counts top-1 agreement. Also checks the test is
// meaningful: logits vary, and top-1 is not one class for every input.
void Evaluate(const ModelCase& c, CalibrationMethod method,
              Agreement* agreement) {
  SCOPED_TRACE(c.label);
  absl::StatusOr<FloatGraph> graph = RandomMbv2Graph(c.seed, c.options);
  ASSERT_TRUE(graph.ok()) << graph.status();

  std::vector<std::vector<float>> calibration;
  for (int i = 0; i < kCalibrationInputs; ++i) {
    calibration.push_back(Image(c, kCalibrationSample + i));
  }
  absl::StatusOr<QuantGraph> q =
      QuantizeFloatGraph(*graph, calibration, {method});
  ASSERT_TRUE(q.ok()) << q.status();
  absl::StatusOr<std::vector<uint8_t>> blob = WriteModel(*q);
  ASSERT_TRUE(blob.ok()) << blob.status();
  absl::StatusOr<std::unique_ptr<LoadedModel>> loaded =
      LoadedModel::FromBytes(*blob);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Model& model = (*loaded)->model();

  Int8Runner reference(model, ReferenceKernels());
  Int8Runner optimized(model, OptimizedKernels());
  ASSERT_TRUE(reference.Init());
  ASSERT_TRUE(optimized.Init());

  std::map<int32_t, int> float_top1_counts;
  int float_correct = 0;  // float top-1 == the class the sample was drawn from
  double logit_spread = 0.0;
  for (int i = 0; i < kTestInputs; ++i) {
    const uint32_t sample = kTestSample + i;
    const std::vector<float> image = Image(c, sample);
    absl::StatusOr<std::vector<float>> logits =
        RunFloatGraphOutput(*graph, image);
    ASSERT_TRUE(logits.ok()) << logits.status();
    ASSERT_EQ(logits->size(), static_cast<size_t>(c.options.classes));
    const auto [lo, hi] = std::minmax_element(logits->begin(), logits->end());
    logit_spread += *hi - *lo;

    const std::vector<int8_t> ref = reference.Run(image);
    const std::vector<int8_t> opt = optimized.Run(image);
    ASSERT_EQ(ref.size(), logits->size());
    ASSERT_EQ(ref, opt) << "optimised kernels differ from reference";

    const int32_t want = ArgMax(logits->data(), logits->size());
    ++float_top1_counts[want];
    float_correct += want == static_cast<int32_t>(sample % c.options.classes);
    agreement->agree += ArgMax(ref.data(), ref.size()) == want;
    ++agreement->total;
  }
  int most_common = 0;
  for (const auto& [cls, count] : float_top1_counts) {
    most_common = std::max(most_common, count);
  }
  // Not degenerate: the logits differ, several classes win, none dominates.
  EXPECT_GT(logit_spread / kTestInputs, 1.0);
  EXPECT_GE(float_top1_counts.size(), 5u);
  EXPECT_LE(most_common, kTestInputs / 2);
  std::printf(
      "  %-24s %s: top-1 agreement %d/%d (%.1f%%); float: %zu "
      "classes won, largest %d, %d match the drawn class\n",
      c.label, method == CalibrationMethod::kMse ? "mse   " : "minmax",
      agreement->agree, agreement->total, 100.0 * agreement->Rate(),
      float_top1_counts.size(), most_common, float_correct);
}

void RunAll(CalibrationMethod method, double min_per_model,
            double min_overall) {
  Agreement overall;
  for (const ModelCase& c : Cases()) {
    Agreement a;
    Evaluate(c, method, &a);
    if (::testing::Test::HasFatalFailure()) return;
    EXPECT_GE(a.Rate(), min_per_model) << c.label;
    overall.agree += a.agree;
    overall.total += a.total;
  }
  std::printf("  overall: %d/%d (%.2f%%)\n", overall.agree, overall.total,
              100.0 * overall.Rate());
  EXPECT_GE(overall.total, 500);
  EXPECT_GE(overall.Rate(), min_overall);
}

// Captures each op's int8 output while the interpreter runs (a tensor's arena
// bytes may be reused once it dies).
struct Capture {
  const Model* model;
  const Interpreter* interpreter;
  std::vector<std::vector<int8_t>> tensors;
};

void CaptureOutput(void* context, uint16_t op) {
  Capture* c = static_cast<Capture*>(context);
  const uint16_t t = c->model->op(op).output;
  const int8_t* data = c->interpreter->Activation(t);
  c->tensors[t].assign(data, data + ElementCount(c->model->tensor(t)));
}

// Error of the engine's output of `op` (dequantised, in `engine`) against
// the float op run on the engine's own dequantised inputs, in output steps.
// Values beyond the output's range saturate in int8; that is not an error.
struct OpError {
  double rms = 0.0;
  double max = 0.0;
};
OpError CompareOp(const FloatGraph& graph, const FloatOp& op,
                  const TensorRecord& out, const FloatTensorValues& engine) {
  FloatTensorValues values = engine;
  EXPECT_TRUE(RunFloatOp(graph, op, &values).ok());
  const double lowest = (-128.0 - out.zero_point) * out.scale;
  const double highest = (127.0 - out.zero_point) * out.scale;
  OpError error;
  const std::vector<float>& got = engine[op.output];
  for (size_t i = 0; i < got.size(); ++i) {
    const double want =
        std::clamp<double>(values[op.output][i], lowest, highest);
    const double e = (got[i] - want) / out.scale;
    error.rms += e * e;
    error.max = std::max(error.max, std::abs(e));
  }
  error.rms = std::sqrt(error.rms / static_cast<double>(got.size()));
  return error;
}

// `op` with its weights and bias replaced by the quantised ones, dequantised:
// what the engine computes, in real numbers.
FloatOp DequantisedOp(const FloatOp& op, const QuantOp& qop,
                      const QuantGraph& q) {
  FloatOp d = op;
  if (op.weights.empty()) return d;
  const QuantTensor& w = q.tensors[qop.inputs[1]];
  const QuantTensor& b = q.tensors[qop.inputs[2]];
  const size_t channels = b.int32_data.size();
  const bool innermost = op.type == FloatOpType::kDepthwiseConv2D;
  for (size_t i = 0; i < d.weights.size(); ++i) {
    const size_t c =
        innermost ? i % channels : i / (d.weights.size() / channels);
    d.weights[i] = w.int8_data[i] * w.channel_scales[c];
  }
  for (size_t c = 0; c < channels; ++c) {
    d.bias[c] = static_cast<float>(b.int32_data[c] *
                                   static_cast<double>(b.channel_scales[c]));
  }
  return d;
}

// Op by op, on the engine's own inputs: the engine must compute exactly what
// its quantised parameters say, up to the final rounding (half a step), and
// stay within about a step of the float op (weight rounding). Catches a wrong
// padding, zero point, multiplier or bias scale even where top-1 survives.
TEST(QuantizedAccuracyTest, EveryOpIsWithinRoundingOfFloat) {
  const ModelCase c = Cases()[0];
  absl::StatusOr<FloatGraph> graph = RandomMbv2Graph(c.seed, c.options);
  ASSERT_TRUE(graph.ok()) << graph.status();
  absl::StatusOr<FloatGraph> folded = FoldBatchNorm(*graph);
  ASSERT_TRUE(folded.ok()) << folded.status();
  std::vector<std::vector<float>> calibration;
  for (int i = 0; i < kCalibrationInputs; ++i) {
    calibration.push_back(Image(c, kCalibrationSample + i));
  }
  absl::StatusOr<QuantGraph> q = QuantizeFloatGraph(*graph, calibration);
  ASSERT_TRUE(q.ok()) << q.status();
  absl::StatusOr<std::vector<uint8_t>> blob = WriteModel(*q);
  ASSERT_TRUE(blob.ok()) << blob.status();
  absl::StatusOr<std::unique_ptr<LoadedModel>> loaded =
      LoadedModel::FromBytes(*blob);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Model& model = (*loaded)->model();
  std::vector<ArenaBlock> arena(model.arena_bytes() / 16 + 1);
  Interpreter interpreter(model, ReferenceKernels());
  ASSERT_EQ(interpreter.Init(arena[0].bytes,
                             static_cast<uint32_t>(arena.size() * 16)),
            Status::kOk);
  Capture capture{&model, &interpreter,
                  std::vector<std::vector<int8_t>>(model.tensor_count())};
  interpreter.SetObserver(CaptureOutput, &capture);

  for (uint32_t sample = kTestSample; sample < kTestSample + 5; ++sample) {
    const TensorRecord& in = model.tensor(model.input(0));
    capture.tensors[model.input(0)] =
        QuantizeValues({in.scale, in.zero_point}, Image(c, sample));
    std::copy(capture.tensors[model.input(0)].begin(),
              capture.tensors[model.input(0)].end(), interpreter.Input(0));
    ASSERT_EQ(interpreter.Invoke(), Status::kOk);
    FloatTensorValues engine(folded->tensors.size());
    for (size_t t = 0; t < engine.size(); ++t) {
      const TensorRecord& r = model.tensor(static_cast<uint16_t>(t));
      engine[t] =
          DequantizeValues({r.scale, r.zero_point}, capture.tensors[t].data(),
                           capture.tensors[t].size());
    }
    for (size_t i = 0; i < folded->ops.size(); ++i) {
      const FloatOp& op = folded->ops[i];
      const TensorRecord& out = model.tensor(static_cast<uint16_t>(op.output));
      const OpError exact =
          CompareOp(*folded, DequantisedOp(op, q->ops[i], *q), out, engine);
      // Half a step, plus slack for float arithmetic and for the ReLU6 clamp
      // (6 itself is not a multiple of the step).
      EXPECT_LT(exact.max, 0.55) << op.name << " (in steps of the output)";
      const OpError approx = CompareOp(*folded, op, out, engine);
      EXPECT_LT(approx.rms, 1.0) << op.name << " (in steps of the output)";
      EXPECT_LT(approx.max, 5.0) << op.name << " (in steps of the output)";
    }
  }
}

TEST(QuantizedAccuracyTest, Int8Top1AgreesWithFloatMse) {
  RunAll(CalibrationMethod::kMse, 0.95, 0.98);
}

TEST(QuantizedAccuracyTest, Int8Top1AgreesWithFloatMinMax) {
  RunAll(CalibrationMethod::kMinMax, 0.95, 0.98);
}

}  // namespace
}  // namespace mcunas::engine
