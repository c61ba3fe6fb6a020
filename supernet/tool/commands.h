// The subcommands of mcunas-supernet (see main.cc). Each returns the process
// exit code and reports errors on the "supernet" logger. Not thread-safe.
#ifndef MCUNAS_SUPERNET_TOOL_COMMANDS_H_
#define MCUNAS_SUPERNET_TOOL_COMMANDS_H_

#include <cstdint>
#include <string>

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

struct TrainFlags {
  DataFlags data;
  NetFlags net;
  std::string schedule = "default";  // quick | default
  int32_t epochs = 0;                // 0: the schedule's
  int32_t batch = 128;
  float lr = 0.0f;              // 0: the schedule's
  float warmup_epochs = -1.0f;  // < 0: the schedule's
  float weight_decay = 4e-5f;
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
  std::string split = "test";  // test | validation
  bool int8 = false;
  int32_t calibration = 256;
  int32_t recalibrate = 0;  // BN recalibration images (0: keep running stats)
  int64_t limit = 0;
  int32_t threads = 2;
  std::string json;  // also write the numbers here
};

struct ExportFlags {
  DataFlags data;
  std::string checkpoint;
  std::string out;
  int32_t calibration = 256;
  int32_t threads = 2;
};

int TrainCommand(const TrainFlags& flags);
int EvalCommand(const EvalFlags& flags);
int ExportCommand(const ExportFlags& flags);

}  // namespace mcunas::supernet::tool

#endif  // MCUNAS_SUPERNET_TOOL_COMMANDS_H_
