// Resumable training checkpoints: the net's config, every parameter, the
// optimizer's velocity, batch-norm running statistics and where training
// stands (epoch, step, running epoch loss), in one little-endian file with a
// CRC-32 over its payload.
//
// Saving writes `path`.tmp, fsyncs it and renames it over `path`, so a
// process killed at any moment leaves either the previous checkpoint or the
// new one, never a torn file. Reading fails with DataLoss for a truncated
// or corrupt file and InvalidArgument for one of another format version.
//
// Stateless functions; concurrent saves to the same path are not supported.
#ifndef MCUNAS_SUPERNET_CHECKPOINT_H_
#define MCUNAS_SUPERNET_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mcunas/supernet/mbnet.h"
#include "mcunas/supernet/optimizer.h"

namespace mcunas::supernet {

// Where a training run stands. The position is the next step to run:
// (epoch, step) = (epochs, 0) means finished.
struct TrainState {
  int32_t epochs = 0;  // planned
  int32_t batch_size = 0;
  float base_lr = 0.0f;
  uint64_t seed = 0;
  int32_t epoch = 0;
  int64_t step = 0;  // within the epoch
  int64_t global_step = 0;
  // Running sums of the current epoch, so its progress line survives a
  // restart.
  double epoch_loss_sum = 0.0;
  int64_t epoch_correct = 0;
  int64_t epoch_images = 0;
  double train_seconds = 0.0;  // wall time spent training so far
};

struct NamedValues {
  std::string name;
  std::vector<float> values;
};

struct Checkpoint {
  MbnetConfig config;
  TrainState state;
  std::vector<NamedValues> parameters;  // Mbnet::Parameters() order
  std::vector<NamedValues> velocity;    // same order; may be empty
  std::vector<NamedValues> bn_mean;     // Mbnet::BatchNormStats() order
  std::vector<NamedValues> bn_var;
  // Free-form key/value pairs and further tensors for trainers that keep
  // more than one net (the elastic supernet: its space, phase, kernel
  // transforms and distillation teacher). Empty for a static net; files of
  // format version 1 read with both empty.
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<NamedValues> extra;

  // The value of `key` in metadata, or "" when absent.
  std::string Metadata(const std::string& key) const;
};

// Captures `net` (and `sgd` when not null) with `state`.
Checkpoint MakeCheckpoint(Mbnet& net, const Sgd* sgd, const TrainState& state);

absl::Status WriteCheckpoint(const std::string& path, const Checkpoint& ckpt);
absl::StatusOr<Checkpoint> ReadCheckpoint(const std::string& path);

// Copies the checkpoint's values into `net` (and `sgd` when not null).
// Fails with InvalidArgument naming the first parameter whose name or size
// differs (a checkpoint of another architecture).
absl::Status RestoreCheckpoint(const Checkpoint& ckpt, Mbnet* net, Sgd* sgd);

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_CHECKPOINT_H_
