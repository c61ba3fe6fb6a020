// Supernet training throughput: images/s of full SGD steps (forward,
// backward, update) on the largest subnet, W 0.5 R 28 d4 k7 e6
// (25.2 M MACs), and on its smallest (d2 k3 e3, 4.0 M MACs), with
// synthetic Fashion-MNIST-shaped batches. The numbers and the PyTorch
// comparison are in docs/benchmarks.md ("Supernet training");
// bench/compare_pytorch.py runs both.
//
//   mcunas_train_throughput --benchmark_min_time=20
//
// BM_TrainStep args: {batch, threads, smallest}; the others' are above each.
#include <memory>
#include <random>

#include "benchmark/benchmark.h"
#include "mcunas/supernet/mbnet.h"
#include "mcunas/supernet/ops.h"
#include "mcunas/supernet/optimizer.h"

namespace mcunas::supernet {
namespace {

struct Setup {
  std::unique_ptr<Mbnet> net;
  Tensor images;
  std::vector<int32_t> labels;
};

// The largest subnet (d4 k7 e6), or with `smallest` its smallest
// (d2 k3 e3, 4.0 M MACs), whose narrow layers run further from the FLOP rate.
Setup Make(int32_t batch, bool smallest = false) {
  Setup s;
  absl::StatusOr<std::unique_ptr<Mbnet>> net =
      Mbnet::Create(smallest ? ReferenceMbnetConfig(0.5f, 28, 2, 3, 3)
                             : ReferenceMbnetConfig(0.5f, 28, 4, 7, 6),
                    1);
  if (!net.ok()) std::abort();
  s.net = std::move(*net);
  s.images.Resize({batch, 28, 28, 1});
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : s.images.values()) v = normal(rng);
  for (int32_t i = 0; i < batch; ++i) s.labels.push_back(i % 10);
  return s;
}

// Args: {batch, threads, smallest (0 or 1)}.
void BM_TrainStep(benchmark::State& state) {
  const int32_t batch = static_cast<int32_t>(state.range(0));
  ThreadPool pool(static_cast<int>(state.range(1)));
  Setup s = Make(batch, state.range(2) != 0);
  Sgd sgd(SgdOptions{});
  const std::vector<Parameter*> params = s.net->Parameters();
  Tensor logits, dlogits;
  auto step = [&] {
    s.net->Forward(pool, s.images, ForwardMode::kTrain, &logits);
    SoftmaxCrossEntropy(logits, s.labels, &dlogits, nullptr);
    s.net->Backward(pool, dlogits);
    sgd.Step(params, 0.01f);
  };
  step();  // allocates every activation; training does that once
  for (auto _ : state) step();
  state.counters["images_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * batch,
                         benchmark::Counter::kIsRate);
  state.SetLabel(KernelSetName());
}
BENCHMARK(BM_TrainStep)
    ->Args({128, 2, 0})
    ->Args({128, 1, 0})
    ->Args({128, 1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The training-mode forward alone, to see how a step splits.
void BM_TrainForward(benchmark::State& state) {
  const int32_t batch = static_cast<int32_t>(state.range(0));
  ThreadPool pool(static_cast<int>(state.range(1)));
  Setup s = Make(batch);
  Tensor logits;
  s.net->Forward(pool, s.images, ForwardMode::kTrain, &logits);
  for (auto _ : state) {
    s.net->Forward(pool, s.images, ForwardMode::kTrain, &logits);
  }
  state.counters["images_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * batch,
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TrainForward)
    ->Args({128, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The depthwise kernels alone, one thread, batch 16: the largest share of
// a step (7x7 depthwise is 60% of the MACs). Args: {H (= W), C, kernel,
// stride}; GMAC/s counts kernel taps inside the image only as MACs would.
enum class DwPass { kForward, kBackwardInput, kBackwardWeights };

template <DwPass kPass>
void BM_Depthwise(benchmark::State& state) {
  const int32_t size = static_cast<int32_t>(state.range(0));
  const int32_t c = static_cast<int32_t>(state.range(1));
  ConvShape shape;
  shape.kernel_h = shape.kernel_w = static_cast<int32_t>(state.range(2));
  shape.stride_h = shape.stride_w = static_cast<int32_t>(state.range(3));
  ThreadPool pool(1);
  Tensor x({16, size, size, c});
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : x.values()) v = normal(rng);
  std::vector<float> w(int64_t{shape.kernel_h} * shape.kernel_w * c, 0.1f);
  std::vector<float> dw(w.size());
  Tensor y, dx;
  DepthwiseForward(pool, x, w.data(), shape, &y);
  Tensor dy = y;
  for (auto _ : state) {
    if (kPass == DwPass::kForward) {
      DepthwiseForward(pool, x, w.data(), shape, &y);
    } else if (kPass == DwPass::kBackwardInput) {
      DepthwiseBackward(pool, x, w.data(), shape, dy, &dx, dw.data());
    } else {
      DepthwiseBackward(pool, x, w.data(), shape, dy, nullptr, dw.data());
    }
  }
  const double macs =
      static_cast<double>(y.size()) * shape.kernel_h * shape.kernel_w;
  state.counters["GMAC/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * macs / 1e9,
                         benchmark::Counter::kIsRate);
}
// Backward "input" runs both passes (input and weights), "weights" only the
// weights pass, so input alone = input - weights.
#define MCUNAS_DW_SHAPES     \
  ->Args({28, 48, 7, 1})     \
      ->Args({14, 96, 7, 1}) \
      ->Args({28, 96, 7, 2}) \
      ->Args({7, 288, 7, 1}) \
      ->Args({14, 72, 3, 1}) \
      ->Unit(benchmark::kMillisecond)
BENCHMARK_TEMPLATE(BM_Depthwise, DwPass::kForward) MCUNAS_DW_SHAPES;
BENCHMARK_TEMPLATE(BM_Depthwise, DwPass::kBackwardInput) MCUNAS_DW_SHAPES;
BENCHMARK_TEMPLATE(BM_Depthwise, DwPass::kBackwardWeights) MCUNAS_DW_SHAPES;

}  // namespace
}  // namespace mcunas::supernet

BENCHMARK_MAIN();
