// Reference vs optimised kernels on MBNet-typical shapes, in GMAC/s (add:
// G elements/s). Each kernel set gets the same inputs; the optimised set is
// whatever OptimizedKernels() picks here, and on x86 both of its variants
// (SSE2, AVX2) are also measured, to show what each one buys.

#include <stdint.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "mcunas/engine/kernels.h"

#if defined(MCUNAS_KERNELS_X86)
#include "engine/kernels/optimized/platform_kernels.h"
#endif

namespace mcunas::engine {
namespace {

std::vector<int8_t> RandomBytes(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(-128, 127);
  std::vector<int8_t> v(n);
  for (auto& b : v) b = static_cast<int8_t>(byte(rng));
  return v;
}

// Buffers and quantisation for one conv-like op.
struct ConvFixture {
  ConvParams params;
  Shape3 in, out;
  std::vector<int8_t> input, weights, output, scratch;
  std::vector<int32_t> bias, multiplier, shift;

  ConvFixture(Shape3 in_shape, Shape3 out_shape, int32_t k, int32_t stride,
              bool depthwise)
      : in(in_shape), out(out_shape) {
    std::mt19937 rng(1);
    params.kernel_h = params.kernel_w = k;
    params.stride_h = params.stride_w = stride;
    // TFLite SAME padding.
    const int32_t pad_h = std::max((out.h - 1) * stride + k - in.h, 0);
    const int32_t pad_w = std::max((out.w - 1) * stride + k - in.w, 0);
    params.pad_top = pad_h / 2;
    params.pad_left = pad_w / 2;
    params.depth_multiplier = depthwise ? out.c / in.c : 1;
    input = RandomBytes(in.Elements(), rng);
    weights =
        RandomBytes(depthwise ? k * k * out.c : out.c * k * k * in.c, rng);
    output.resize(out.Elements());
    bias.assign(out.c, 1234);
    multiplier.assign(out.c, 1518500250);
    shift.assign(out.c, -9);
    params.requant.multiplier = multiplier.data();
    params.requant.shift = shift.data();
    params.requant.input_offset = 5;
    params.requant.output_offset = -3;
    params.requant.act_min = -3;  // ReLU
    scratch.resize(depthwise ? DepthwiseScratchBytes(params, in, out)
                             : ConvScratchBytes(params, in, out) + 1);
  }
  double ConvMacs() const {
    return double(out.Elements()) * params.kernel_h * params.kernel_w * in.c;
  }
};

void SetRate(benchmark::State& state, double per_call) {
  state.counters["GMAC/s"] = benchmark::Counter(
      per_call * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

void RegisterConv(const std::string& name, const KernelSet* set, Shape3 in,
                  Shape3 out, int32_t k, int32_t stride) {
  benchmark::RegisterBenchmark(
      (name + "/" + set->name).c_str(), [=](benchmark::State& state) {
        ConvFixture f(in, out, k, stride, /*depthwise=*/false);
        for (auto _ : state) {
          set->conv(f.params, f.in, f.input.data(), f.weights.data(),
                    f.bias.data(), f.out, f.output.data(), f.scratch.data());
          benchmark::DoNotOptimize(f.output.data());
          benchmark::ClobberMemory();
        }
        SetRate(state, f.ConvMacs());
      });
}

void RegisterDepthwise(const std::string& name, const KernelSet* set, Shape3 in,
                       Shape3 out, int32_t k, int32_t stride, bool in_place) {
  benchmark::RegisterBenchmark(
      (name + "/" + set->name).c_str(), [=](benchmark::State& state) {
        ConvFixture f(in, out, k, stride, /*depthwise=*/true);
        int8_t* dst = in_place ? f.input.data() : f.output.data();
        double macs = double(out.Elements()) * k * k;
        for (auto _ : state) {
          set->depthwise(f.params, f.in, f.input.data(), f.weights.data(),
                         f.bias.data(), f.out, dst, f.scratch.data());
          benchmark::DoNotOptimize(dst);
          benchmark::ClobberMemory();
        }
        SetRate(state, macs);
      });
}

void RegisterAdd(const std::string& name, const KernelSet* set,
                 int32_t elements) {
  benchmark::RegisterBenchmark(
      (name + "/" + set->name).c_str(), [=](benchmark::State& state) {
        std::mt19937 rng(2);
        std::vector<int8_t> a = RandomBytes(elements, rng);
        std::vector<int8_t> b = RandomBytes(elements, rng);
        std::vector<int8_t> out(elements);
        AddQuantParams p;
        p.input1_offset = 3;
        p.input2_offset = -7;
        p.output_offset = 1;
        p.input1_multiplier = 1288490189;
        p.input2_multiplier = 1717986918;
        p.input1_shift = -1;
        p.input2_shift = -1;
        p.output_multiplier = 1431655765;
        p.output_shift = -19;
        for (auto _ : state) {
          set->add(p, elements, a.data(), b.data(), out.data());
          benchmark::DoNotOptimize(out.data());
          benchmark::ClobberMemory();
        }
        SetRate(state, elements);
      });
}

void RegisterFullyConnected(const std::string& name, const KernelSet* set,
                            int32_t in_n, int32_t out_n) {
  benchmark::RegisterBenchmark(
      (name + "/" + set->name).c_str(), [=](benchmark::State& state) {
        std::mt19937 rng(3);
        std::vector<int8_t> input = RandomBytes(in_n, rng);
        std::vector<int8_t> weights = RandomBytes(size_t(in_n) * out_n, rng);
        std::vector<int8_t> out(out_n);
        std::vector<int32_t> bias(out_n, -77), multiplier(out_n, 1200000000),
            shift(out_n, -10);
        RequantParams rq;
        rq.multiplier = multiplier.data();
        rq.shift = shift.data();
        rq.input_offset = 128;
        for (auto _ : state) {
          set->fully_connected(rq, in_n, input.data(), weights.data(),
                               bias.data(), out_n, out.data());
          benchmark::DoNotOptimize(out.data());
          benchmark::ClobberMemory();
        }
        SetRate(state, double(in_n) * out_n);
      });
}

void RegisterAll(const KernelSet* set) {
  RegisterConv("pointwise/28x28x48->16", set, {28, 28, 48}, {28, 28, 16}, 1, 1);
  RegisterConv("pointwise/48x48x8->16", set, {48, 48, 8}, {48, 48, 16}, 1, 1);
  RegisterConv("pointwise/14x14x16->96", set, {14, 14, 16}, {14, 14, 96}, 1, 1);
  RegisterConv("stem/96x96x1->48x48x8", set, {96, 96, 1}, {48, 48, 8}, 3, 2);
  RegisterConv("stem/96x96x3->48x48x16", set, {96, 96, 3}, {48, 48, 16}, 3, 2);
  for (int32_t k : {3, 5, 7}) {
    const std::string kk = std::to_string(k);
    RegisterDepthwise("depthwise/k" + kk + "s1/14x14x96", set, {14, 14, 96},
                      {14, 14, 96}, k, 1, false);
    RegisterDepthwise("depthwise/k" + kk + "s2/28x28x48", set, {28, 28, 48},
                      {14, 14, 48}, k, 2, false);
  }
  RegisterDepthwise("depthwise/k3s1/14x14x96/in-place", set, {14, 14, 96},
                    {14, 14, 96}, 3, 1, true);
  RegisterAdd("add/28x28x16", set, 28 * 28 * 16);
  RegisterFullyConnected("fc/1280->10", set, 1280, 10);
  RegisterFullyConnected("fc/512->256", set, 512, 256);
}

}  // namespace
}  // namespace mcunas::engine

int main(int argc, char** argv) {
  using namespace mcunas::engine;
  benchmark::Initialize(&argc, argv);
  RegisterAll(&ReferenceKernels());
  RegisterAll(&OptimizedKernels());
#if defined(MCUNAS_KERNELS_X86)
  // The variant OptimizedKernels() did not pick, for comparison.
  const KernelSet* avx2 = optimized::X86Avx2Kernels();
  if (avx2 != nullptr) RegisterAll(&optimized::X86Sse2Kernels());
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
