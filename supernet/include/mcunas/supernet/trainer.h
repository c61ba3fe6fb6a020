// The training loop for a (static) Mbnet: shuffled, augmented batches from a
// BatchLoader, softmax cross-entropy, SGD with momentum under a cosine
// schedule with warm-up, per-epoch validation, progress reports and
// resumable checkpoints.
//
// Resuming: when options.checkpoint_path exists, Train restores the net,
// the optimizer and the position from it and continues with the next step.
// Data order and augmentation are functions of (seed, epoch, position)
// (data_pipeline.h), so a resumed run computes the same steps as an
// uninterrupted one. A checkpoint made with a different architecture, batch
// size, epoch count, learning rate or seed is refused (InvalidArgument), as
// mixing them would silently change the schedule.
//
// Train uses the caller's pool and net; not thread-safe.
#ifndef MCUNAS_SUPERNET_TRAINER_H_
#define MCUNAS_SUPERNET_TRAINER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "mcunas/supernet/checkpoint.h"
#include "mcunas/supernet/data_pipeline.h"
#include "mcunas/supernet/mbnet.h"
#include "mcunas/supernet/optimizer.h"
#include "mcunas/supernet/thread_pool.h"

namespace mcunas::supernet {

struct TrainProgress {
  int32_t epoch = 0;  // 0-based, current
  int32_t epochs = 0;
  int64_t step = 0;  // steps done in this epoch
  int64_t steps_per_epoch = 0;
  double loss = 0.0;               // mean training loss of this epoch so far
  double accuracy = 0.0;           // training accuracy of this epoch so far
  double images_per_second = 0.0;  // over the last few seconds
  double seconds_left = 0.0;       // of training (validation not counted)
  float lr = 0.0f;
  // Set on the report at the end of an epoch when there is validation data.
  bool epoch_end = false;
  double validation_accuracy = -1.0;
  double validation_loss = -1.0;
};

struct TrainOptions {
  int32_t epochs = 1;
  int32_t batch_size = 128;
  float lr = 0.1f;
  float warmup_epochs = 0.5f;
  SgdOptions sgd;
  uint64_t seed = 1;
  // Empty: no checkpoints. Otherwise written every checkpoint_seconds of
  // training, every checkpoint_steps steps (when > 0) and at each epoch end.
  std::string checkpoint_path;
  double checkpoint_seconds = 60.0;
  int64_t checkpoint_steps = 0;
  // Stop (without saving) once this many steps of the whole run are done;
  // <= 0 for no limit. Lets tests interrupt a run as a kill would.
  int64_t max_steps = 0;
  // Called after every step and at every epoch end.
  std::function<void(const TrainProgress&)> on_progress;
};

struct TrainResult {
  bool finished = false;  // all epochs done
  bool resumed = false;
  int64_t resumed_from_step = 0;  // global step the checkpoint held
  int64_t global_step = 0;
  double validation_accuracy = -1.0;  // of the last epoch end, if measured
  double train_seconds = 0.0;
};

// REQUIRES: `validation` (may be null) and `train` outlive the call.
absl::StatusOr<TrainResult> Train(Mbnet* net, ThreadPool& pool,
                                  const BatchLoader& train,
                                  const BatchLoader* validation,
                                  const TrainOptions& options);

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_TRAINER_H_
