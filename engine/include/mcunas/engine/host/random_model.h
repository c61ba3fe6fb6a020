// Host only. Random MobileNetV2-style float models and random input images,
// for tests, benchmarks and demos of the quantiser and the engine.
//
// A model is: stem conv (k3, stride 1 or 2) + ReLU6; stages of inverted
// residual blocks (1x1 expand + ReLU6 unless the ratio is 1, depthwise k x k
// with the stage's stride on the first block + ReLU6, 1x1 project, residual
// add when the block keeps shape); 1x1 head conv + ReLU6; global average
// pool; fully connected to the classes. Every conv has batch norm.
//
// The weights are random (He init), but the model behaves like a trained
// classifier on a synthetic task, so that its logits mean something: each
// class is a random smooth template image, and RandomClassImage draws a
// sample of a class (its template blended with a random pattern). Batch norm
// statistics are measured on a few samples of every class (as supernets
// recalibrate BN per subnet), so each pre-activation is ~N(beta, gamma^2)
// with random gamma and beta; the classifier is the nearest-class-mean rule
// on the pooled features of those samples. A random head on random features
// would give logits whose top two are often nearly tied, which no int8 model
// can be expected to reproduce. Everything is a deterministic function of the
// seed. Stateless functions; thread-safe.
#ifndef MCUNAS_ENGINE_HOST_RANDOM_MODEL_H_
#define MCUNAS_ENGINE_HOST_RANDOM_MODEL_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/engine/host/float_graph.h"

namespace mcunas::engine {

struct Mbv2Stage {
  int32_t channels = 16;  // output channels before the width multiplier
  int32_t depth = 1;      // blocks
  int32_t stride = 1;     // of the first block; the others use 1
  int32_t expand = 0;     // expansion ratio; 0 = random per block
  int32_t kernel = 0;     // depthwise kernel; 0 = random per block
};

struct RandomMbv2Options {
  int32_t resolution = 32;  // input H = W
  int32_t input_channels = 3;
  float width_multiplier = 0.5f;  // channels rounded to multiples of 8
  int32_t stem_channels = 32;     // before the width multiplier
  int32_t stem_stride = 2;
  // The defaults give ~0.6-1.8 M MACs at resolution 32, width 0.5.
  std::vector<Mbv2Stage> stages = {
      {16, 1, 1, /*expand=*/1}, {24, 2, 2}, {32, 2, 2}, {64, 2, 2}, {96, 1, 1}};
  std::vector<int32_t> kernel_choices = {3, 5, 7};  // for kernel == 0
  std::vector<int32_t> expand_choices = {3, 4, 6};  // for expand == 0
  int32_t head_channels = 256;  // before the width multiplier
  int32_t classes = 10;
  // Samples of each class (RandomClassImage with sample < this) used to
  // measure batch-norm statistics and the class means of the classifier.
  // 0: random batch-norm statistics and a random classifier.
  int32_t samples_per_class = 4;
};

// Builds a random model. Fails with InvalidArgument when the options are
// invalid (non-positive sizes, empty choice lists, no stages).
absl::StatusOr<FloatGraph> RandomMbv2Graph(
    uint32_t seed, const RandomMbv2Options& options = {});

// Sample `sample` of class `cls` of model `seed`, an image in [-1, 1] with
// the model's input shape: clamp(a * template + (1 - a) * pattern) with a
// random in [0.5, 0.9] and a random smooth pattern. Samples below
// options.samples_per_class were used to build the model; use others to test.
// REQUIRES: 0 <= cls < options.classes.
std::vector<float> RandomClassImage(uint32_t seed,
                                    const RandomMbv2Options& options,
                                    int32_t cls, uint32_t sample);

// A smooth random image in [-1, 1], NHWC {h, w, c} flattened: per channel a
// random offset plus a few random low-frequency sinusoids, plus a little
// pixel noise. Looks more like natural images to a convnet than white noise.
std::vector<float> RandomSmoothImage(uint32_t seed, int32_t h, int32_t w,
                                     int32_t c);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_HOST_RANDOM_MODEL_H_
