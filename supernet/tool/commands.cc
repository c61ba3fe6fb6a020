#include "commands.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/supernet/checkpoint.h"
#include "mcunas/supernet/data_pipeline.h"
#include "mcunas/supernet/dataset.h"
#include "mcunas/supernet/elastic_supernet.h"
#include "mcunas/supernet/evaluate.h"
#include "mcunas/supernet/mbnet.h"
#include "mcunas/supernet/ops.h"
#include "mcunas/supernet/supernet_checkpoint.h"
#include "mcunas/supernet/trainer.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"
#include "tool_util.h"

namespace mcunas::supernet::tool {
namespace {

// The progress line of a static net's training step.
std::string ProgressText(const TrainProgress& p) {
  return absl::StrFormat(
      "epoch %d/%d  step %d/%d  loss %.4f  acc %.2f%%  %.0f img/s  lr %.4f  "
      "left %s",
      p.epoch + 1, p.epochs, p.step, p.steps_per_epoch, p.loss,
      100 * p.accuracy, p.images_per_second, p.lr, Duration(p.seconds_left));
}

struct Schedule {
  int32_t epochs;
  float lr;
  float warmup_epochs;
  float weight_decay = 4e-5f;
};

// Documented in docs/supernet.md ("Schedules"): quick fits in 5 minutes on
// the 2-core development machine, default in 60 (largest W 0.5 R 28 net).
Schedule ScheduleNamed(const std::string& name) {
  if (name == "quick") return {1, 0.1f, 0.5f};
  return {10, 0.1f, 0.5f};
}

absl::Status RunTrain(const TrainFlags& flags) {
  MCUNAS_ASSIGN_OR_RETURN(Data data, LoadData(flags.data));
  const Schedule schedule = ScheduleNamed(flags.schedule);
  TrainOptions options;
  options.epochs = flags.epochs > 0 ? flags.epochs : schedule.epochs;
  options.lr = flags.lr > 0 ? flags.lr : schedule.lr;
  options.warmup_epochs =
      flags.warmup_epochs >= 0 ? flags.warmup_epochs : schedule.warmup_epochs;
  options.batch_size = flags.batch;
  options.sgd.weight_decay =
      flags.weight_decay >= 0 ? flags.weight_decay : schedule.weight_decay;
  options.seed = flags.seed;
  options.checkpoint_path = flags.out;
  options.checkpoint_seconds = flags.checkpoint_seconds;
  options.checkpoint_steps = flags.checkpoint_steps;
  options.max_steps = flags.max_steps;

  const MbnetConfig config = ReferenceMbnetConfig(
      flags.net.width, flags.net.resolution, flags.net.depth, flags.net.kernel,
      flags.net.expand, data.train.channels, data.train.classes);
  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<Mbnet> net,
                          Mbnet::Create(config, flags.seed));
  Log()->info("net: {} ({:.2f} M MACs, {} parameters)",
              MbnetConfigString(config), MbnetMacs(config) / 1e6,
              net->ParameterCount());
  Log()->info(
      "training {} epochs, batch {}, lr {} (warm-up {} epochs), wd "
      "{}, {} threads, kernels {}, checkpoint {}",
      options.epochs, options.batch_size, options.lr, options.warmup_epochs,
      options.sgd.weight_decay, flags.threads, KernelSetName(), flags.out);

  std::vector<int64_t> train_indices = data.split.train;
  if (flags.train_limit > 0 &&
      flags.train_limit < static_cast<int64_t>(train_indices.size())) {
    train_indices.resize(flags.train_limit);
  }
  PipelineOptions train_pipeline = Pipeline(data, config.resolution);
  train_pipeline.augment.pad = flags.pad;
  train_pipeline.augment.horizontal_flip = flags.flip;
  BatchLoader train(&data.train, std::move(train_indices), train_pipeline,
                    flags.seed);
  BatchLoader validation(&data.train, data.split.validation,
                         Pipeline(data, config.resolution), flags.seed);
  ThreadPool pool(flags.threads);
  ProgressLine progress;
  options.on_progress = [&](const TrainProgress& p) {
    if (p.epoch_end) {
      progress.Clear();  // the trainer logs the epoch summary
    } else {
      progress.Show(ProgressText(p));
    }
  };
  MCUNAS_ASSIGN_OR_RETURN(
      TrainResult result,
      Train(net.get(), pool, train,
            validation.size() > 0 ? &validation : nullptr, options));
  if (!result.finished) {
    Log()->info("stopped at step {} (--max-steps); run again to continue",
                result.global_step);
    return absl::OkStatus();
  }
  Log()->info("finished: {} steps, {} of training, validation accuracy {:.2f}%",
              result.global_step, Duration(result.train_seconds),
              100 * result.validation_accuracy);
  return absl::OkStatus();
}

// A static net, or the subnet `arch` of a supernet checkpoint.
struct LoadedNet {
  std::unique_ptr<Mbnet> net;
  std::string arch;  // canonical ArchSpec; empty for a static net
};

absl::StatusOr<LoadedNet> LoadNet(const std::string& path,
                                  const std::string& arch) {
  MCUNAS_ASSIGN_OR_RETURN(Checkpoint ckpt, ReadCheckpoint(path));
  LoadedNet loaded;
  if (IsSupernetCheckpoint(ckpt)) {
    MCUNAS_ASSIGN_OR_RETURN(SupernetPosition pos, SupernetPositionOf(ckpt));
    if (pos.phase < pos.state.epochs) {
      Log()->warn("{}: supernet training is not finished (phase {}/{})", path,
                  pos.phase + 1, pos.state.epochs);
    }
    MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<ElasticSupernet> supernet,
                            SupernetFromCheckpoint(ckpt, path));
    searchspace::ArchSpec spec;
    if (arch.empty() || arch == "largest") {
      spec = supernet->Largest();
    } else if (arch == "smallest") {
      spec = supernet->Smallest();
    } else {
      MCUNAS_ASSIGN_OR_RETURN(spec, supernet->space().Parse(arch));
    }
    MCUNAS_ASSIGN_OR_RETURN(loaded.net, supernet->Extract(spec));
    loaded.arch = searchspace::CanonicalString(spec);
    Log()->info("subnet {} ({:.2f} M MACs)", loaded.arch,
                MbnetMacs(loaded.net->config()) / 1e6);
    return loaded;
  }
  if (!arch.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": --arch needs a supernet checkpoint; this is a static net"));
  }
  MCUNAS_ASSIGN_OR_RETURN(loaded.net, Mbnet::Create(ckpt.config, 0));
  MCUNAS_RETURN_IF_ERROR(RestoreCheckpoint(ckpt, loaded.net.get(), nullptr));
  if (ckpt.state.epoch < ckpt.state.epochs) {
    Log()->warn("{}: training is not finished (epoch {}/{}, step {})", path,
                ckpt.state.epoch + 1, ckpt.state.epochs, ckpt.state.step);
  }
  return loaded;
}

int32_t RecalibrationImages(int32_t flag, const LoadedNet& loaded) {
  if (flag >= 0) return flag;
  return loaded.arch.empty() ? 0 : 512;
}

absl::Status RunEval(const EvalFlags& flags) {
  MCUNAS_ASSIGN_OR_RETURN(Data data, LoadData(flags.data));
  MCUNAS_ASSIGN_OR_RETURN(LoadedNet loaded,
                          LoadNet(flags.checkpoint, flags.arch));
  std::unique_ptr<Mbnet>& net = loaded.net;
  const MbnetConfig& config = net->config();
  if (config.input_channels != data.train.channels ||
      config.classes != data.train.classes) {
    return absl::InvalidArgumentError(absl::StrCat(
        flags.checkpoint, ": net takes ", config.input_channels,
        " channels and ", config.classes, " classes; the data has ",
        data.train.channels, " and ", data.train.classes));
  }
  const bool test = flags.split == "test";
  BatchLoader eval(test ? &data.test : &data.train,
                   test ? AllIndices(data.test) : data.split.validation,
                   Pipeline(data, config.resolution), 0);
  BatchLoader calibration(&data.train, data.split.train,
                          Pipeline(data, config.resolution), 0);
  ThreadPool pool(flags.threads);
  const int32_t recalibrate = RecalibrationImages(flags.recalibrate, loaded);
  if (recalibrate > 0) {
    RecalibrateBatchNorm(*net, pool, calibration, recalibrate);
    Log()->info("BN statistics recalibrated on {} training images",
                recalibrate);
  }
  const auto start = std::chrono::steady_clock::now();
  const EvalResult f = EvaluateFloat(*net, pool, eval, 256, flags.limit);
  std::printf("float: %.2f%% (%lld/%lld) loss %.4f on %s\n", 100 * f.accuracy(),
              static_cast<long long>(f.correct),
              static_cast<long long>(f.images), f.loss, flags.split.c_str());
  std::string json = absl::StrFormat(
      "{\"split\": \"%s\", \"images\": %d, \"float_accuracy\": %.6f",
      flags.split, f.images, f.accuracy());
  if (!loaded.arch.empty()) {
    absl::StrAppendFormat(&json, ", \"arch\": \"%s\", \"macs\": %d",
                          loaded.arch, MbnetMacs(config));
  }
  if (flags.int8) {
    MCUNAS_ASSIGN_OR_RETURN(engine::FloatGraph graph, net->ExportFloatGraph());
    MCUNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> blob,
                            ExportInt8(graph, calibration, flags.calibration));
    MCUNAS_ASSIGN_OR_RETURN(
        EvalResult q, EvaluateInt8(blob, eval, flags.threads, flags.limit));
    std::printf(
        "int8:  %.2f%% (%lld/%lld) on %s (engine, %zu-byte model, "
        "calibrated on %d training images)\n",
        100 * q.accuracy(), static_cast<long long>(q.correct),
        static_cast<long long>(q.images), flags.split.c_str(), blob.size(),
        flags.calibration);
    std::printf("int8 - float: %+.2f points\n",
                100 * (q.accuracy() - f.accuracy()));
    absl::StrAppendFormat(&json,
                          ", \"int8_accuracy\": %.6f, \"model_bytes\": %d",
                          q.accuracy(), blob.size());
  }
  json += "}\n";
  Log()->info(
      "evaluated in {:.1f} s",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  if (!flags.json.empty()) {
    std::ofstream out(flags.json);
    out << json;
    if (!out)
      return absl::InternalError(absl::StrCat(flags.json, ": write failed"));
  }
  return absl::OkStatus();
}

absl::Status RunExport(const ExportFlags& flags) {
  MCUNAS_ASSIGN_OR_RETURN(Data data, LoadData(flags.data));
  MCUNAS_ASSIGN_OR_RETURN(LoadedNet loaded,
                          LoadNet(flags.checkpoint, flags.arch));
  std::unique_ptr<Mbnet>& net = loaded.net;
  BatchLoader calibration(&data.train, data.split.train,
                          Pipeline(data, net->config().resolution), 0);
  const int32_t recalibrate = RecalibrationImages(flags.recalibrate, loaded);
  if (recalibrate > 0) {
    ThreadPool pool(flags.threads);
    RecalibrateBatchNorm(*net, pool, calibration, recalibrate);
  }
  MCUNAS_ASSIGN_OR_RETURN(engine::FloatGraph graph, net->ExportFloatGraph());
  MCUNAS_ASSIGN_OR_RETURN(std::vector<uint8_t> blob,
                          ExportInt8(graph, calibration, flags.calibration));
  std::ofstream out(flags.out, std::ios::binary);
  out.write(reinterpret_cast<const char*>(blob.data()),
            static_cast<std::streamsize>(blob.size()));
  if (!out)
    return absl::InternalError(absl::StrCat(flags.out, ": write failed"));
  Log()->info("wrote {} ({} bytes)", flags.out, blob.size());
  return absl::OkStatus();
}

}  // namespace

int TrainCommand(const TrainFlags& flags) {
  if (flags.supernet.enabled) return SupernetTrainCommand(flags);
  return Exit(RunTrain(flags));
}
int EvalCommand(const EvalFlags& flags) { return Exit(RunEval(flags)); }
int ExportCommand(const ExportFlags& flags) { return Exit(RunExport(flags)); }

}  // namespace mcunas::supernet::tool
