// The subcommands of mcunas-supernet (see main.cc). Each returns the process
// exit code and reports errors on the "supernet" logger. Not thread-safe.
#ifndef MCUNAS_SUPERNET_TOOL_COMMANDS_H_
#define MCUNAS_SUPERNET_TOOL_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace mcunas::supernet::tool {

// Which data, and how it is split. `data`: "fashion-mnist" (Debian's
// package), "idx:DIR" (MNIST-style {train,t10k}-{images-idx3,labels-idx1}-
// ubyte[.gz] in DIR) or "folder:DIR" (DIR/train/<class>/*.png|jpg and
// DIR/test/<class>/...).
struct DataFlags {
  std::string data = "fashion-mnist";
  double validation_fraction = 0.1;
  uint64_t split_seed = 0;
};

// The static MBNet to train: the reference architecture scaled by width,
// with one depth, kernel and expand ratio for every stage.
struct NetFlags {
  float width = 0.5f;
  int32_t resolution = 28;
  int32_t depth = 4;
  int32_t kernel = 7;
  int32_t expand = 6;
};

// Elastic supernet training (train --supernet): the space, at the
// resolution and width of NetFlags, and progressive shrinking settings.
struct SupernetFlags {
  bool enabled = false;
  // A built-in space name (searchspace/spaces) or a space JSON file.
  std::string space = "fashion_mnist";
  // Epochs of the phases full, kernel, depth, expand (fractions allowed);
  // empty: the schedule's.
  std::vector<double> phase_epochs;
  float distill = 1.0f;  // distillation weight (0: off)
  // Multiplies the elastic phases' peak learning rates (kernel 0.4, depth
  // and expand 0.25 of the full phase's): one value for all three, or one
  // each for kernel, depth, expand; empty: the schedule's.
  std::vector<float> elastic_lr_scale;
  int32_t subnets_per_step = 0;    // 0: the schedule's
  int32_t with_largest = -1;       // 0 or 1; < 0: the schedule's
  int32_t with_smallest = -1;      // 0 or 1; < 0: the schedule's
  int32_t smallest_every = 0;      // 0: the schedule's
  // ShrinkOptions' method; empty: the schedule's.
  std::string lr_span;             // per-phase | whole-run
  std::string teacher;             // frozen | in-place
  std::string subnet_loss;         // mean | sum | largest-share
  float largest_share = 0.5f;      // with largest-share
  // Another run's checkpoint at a phase boundary to begin from
  // (ShrinkOptions::start_from); empty: from scratch.
  std::string start_from;
  int32_t recalibrate = 512;       // BN recalibration images for validation
  int64_t validation_images = -1;  // < 0: the schedule's; 0: all
};

struct TrainFlags {
  DataFlags data;
  NetFlags net;
  SupernetFlags supernet;
  std::string schedule = "default";  // quick | default
  int32_t epochs = 0;                // 0: the schedule's
  int32_t batch = 128;
  float lr = 0.0f;              // 0: the schedule's
  float warmup_epochs = -1.0f;  // < 0: the schedule's
  float weight_decay = -1.0f;   // < 0: the schedule's
  int32_t pad = 2;
  bool flip = true;
  int32_t threads = 2;
  uint64_t seed = 1;
  std::string out;
  double checkpoint_seconds = 60.0;
  int64_t checkpoint_steps = 0;
  int64_t max_steps = 0;
  int64_t train_limit = 0;  // use only the first N training images (demos)
};

struct EvalFlags {
  DataFlags data;
  std::string checkpoint;
  // For a supernet checkpoint: the subnet, "largest", "smallest" or an
  // ArchSpec ("r28-w0.5:k3e1|..."); empty means largest.
  std::string arch;
  std::string split = "test";  // test | validation
  bool int8 = false;
  int32_t calibration = 256;
  // BN recalibration images; 0 keeps the running statistics; < 0: 512 for
  // a supernet's subnet (its shared statistics mean nothing), else 0.
  int32_t recalibrate = -1;
  int64_t limit = 0;
  int32_t threads = 2;
  std::string json;  // also write the numbers here
};

struct ExportFlags {
  DataFlags data;
  std::string checkpoint;
  std::string arch;          // as EvalFlags::arch
  int32_t recalibrate = -1;  // as EvalFlags::recalibrate
  std::string out;
  int32_t calibration = 256;
  int32_t threads = 2;
};

// predictor: measure subnets of a supernet, train and test the accuracy
// predictor (predictor_command.cc).
struct PredictorFlags {
  DataFlags data;
  std::string checkpoint;  // a supernet checkpoint
  std::string samples;     // "arch,accuracy" lines, appended and reused
  std::string out;         // the trained predictor (optional)
  int32_t subnets = 400;   // distinct random subnets, the last held out
  int32_t held_out = 200;
  int32_t recalibrate = 512;
  int64_t validation_images = 0;  // 0: the whole validation split
  int32_t epochs = 1000;          // predictor training steps
  float weight_decay = -1;        // < 0: chosen by 5-fold cross-validation
  // Also hold out every other block of held_out subnets in turn.
  bool rotate = false;
  int32_t threads = 2;
  uint64_t seed = 1;
};

int TrainCommand(const TrainFlags& flags);
int PredictorCommand(const PredictorFlags& flags);
// train --supernet (supernet_commands.cc).
int SupernetTrainCommand(const TrainFlags& flags);
int EvalCommand(const EvalFlags& flags);
int ExportCommand(const ExportFlags& flags);

}  // namespace mcunas::supernet::tool

#endif  // MCUNAS_SUPERNET_TOOL_COMMANDS_H_
