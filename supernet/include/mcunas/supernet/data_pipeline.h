// Turns a Dataset (uint8 HWC images) into float NHWC training and evaluation
// batches: resize to the net's resolution (bilinear), light augmentation
// (random crop from a zero-padded image, horizontal flip) and per-channel
// normalisation (x / 255 - mean) / std.
//
// Deterministic: the order of an epoch is a seeded shuffle of the indices
// and each sample's augmentation is drawn from (seed, epoch, position), so
// batch b of epoch e is the same whether training ran straight through or
// was resumed from a checkpoint.
//
// A BatchLoader holds a pointer to its Dataset (which must outlive it) and is
// immutable after construction; Fill is thread-safe for distinct outputs.
#ifndef MCUNAS_SUPERNET_DATA_PIPELINE_H_
#define MCUNAS_SUPERNET_DATA_PIPELINE_H_

#include <cstdint>
#include <vector>

#include "mcunas/supernet/dataset.h"
#include "mcunas/supernet/tensor.h"
#include "mcunas/supernet/thread_pool.h"

namespace mcunas::supernet {

struct Normalization {
  std::vector<float> mean = {0.5f};  // per channel (or one for all)
  std::vector<float> std = {0.5f};
};
// Fashion-MNIST's training-set mean and standard deviation.
Normalization FashionMnistNormalization();

struct AugmentOptions {
  // Random crop: the image is padded by `pad` black pixels on every side and
  // an R x R window taken at a uniform offset. 0 = no crop.
  int32_t pad = 0;
  bool horizontal_flip = false;
};

struct PipelineOptions {
  int32_t resolution = 28;
  Normalization normalization;
  AugmentOptions augment;  // applied to training batches only
};

class BatchLoader {
 public:
  // `indices` selects the samples of `dataset` this loader serves.
  BatchLoader(const Dataset* dataset, std::vector<int64_t> indices,
              PipelineOptions options, uint64_t seed);

  int64_t size() const { return static_cast<int64_t>(indices_.size()); }
  const PipelineOptions& options() const { return options_; }
  // Training epochs drop the last partial batch (batch norm statistics of a
  // tiny batch are noise); evaluation keeps it.
  int64_t Batches(int32_t batch_size, bool train) const;

  // Batch `batch` of `epoch`: images {B, R, R, C} and labels. Training
  // batches are shuffled and augmented; evaluation batches are in index
  // order and plain. B = batch_size except for a final evaluation batch.
  void Fill(ThreadPool& pool, int64_t epoch, int64_t batch, int32_t batch_size,
            bool train, Tensor* images, std::vector<int32_t>* labels) const;

  // One plain normalised image (R x R x C) of sample `position`, e.g. for
  // quantiser calibration.
  std::vector<float> Image(int64_t position) const;
  int32_t Label(int64_t position) const {
    return dataset_->labels[indices_[position]];
  }

 private:
  void Prepare(int64_t index, bool augment, uint64_t sample_seed,
               float* out) const;

  const Dataset* dataset_;
  std::vector<int64_t> indices_;
  PipelineOptions options_;
  uint64_t seed_;
};

// Bilinear resize with half-pixel centres (TensorFlow's and PyTorch's
// align_corners=false): uint8 HWC in, float HWC out in pixel units [0, 255].
void ResizeBilinear(const uint8_t* src, int32_t height, int32_t width,
                    int32_t channels, int32_t out_height, int32_t out_width,
                    float* out);

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_DATA_PIPELINE_H_
