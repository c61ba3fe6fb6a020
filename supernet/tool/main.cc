// mcunas-supernet: train, evaluate and export MBNet classifiers on the host.
//
//   mcunas-supernet train --out var/net.ckpt [--schedule quick|default]
//       [--width 0.5 --resolution 28 --depth 4 --kernel 7 --expand 6]
//       [--epochs N --batch 128 --lr X --threads 2 --data fashion-mnist]
//   mcunas-supernet train --supernet --out var/supernet.ckpt
//       [--space fashion_mnist --resolution 28 --width 0.5]
//       [--schedule quick|default --phase-epochs 9,0.15,0.15,6 --distill 1]
//   mcunas-supernet eval --checkpoint var/net.ckpt [--int8] [--split test]
//       [--arch largest|smallest|r28-w0.5:...]   (supernet checkpoints)
//   mcunas-supernet export --checkpoint var/net.ckpt --out var/net.mcunas
//   mcunas-supernet predictor --checkpoint var/supernet.ckpt
//       --samples var/subnets.csv [--subnets 400 --held-out 200 --out P]
//
// Training resumes from --out when it exists (kill it, run the same command
// again). See docs/supernet.md.
#include <exception>
#include <iostream>

#include "CLI/CLI.hpp"
#include "commands.h"

namespace {

void AddDataFlags(CLI::App* cmd, mcunas::supernet::tool::DataFlags* d) {
  cmd->add_option("--data", d->data,
                  "fashion-mnist | idx:DIR (MNIST-style files) | folder:DIR "
                  "(DIR/{train,test}/<class>/*.png|jpg)");
  cmd->add_option("--val-fraction", d->validation_fraction,
                  "share of the training set held out for validation")
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--split-seed", d->split_seed,
                  "seed of the validation split");
}

}  // namespace

int main(int argc, char** argv) {
  namespace tool = mcunas::supernet::tool;
  CLI::App app{
      "Train, evaluate and export mcunas MBNet classifiers and supernets"};
  app.require_subcommand(1);

  tool::TrainFlags t;
  CLI::App* train = app.add_subcommand(
      "train", "train a static MBNet or (--supernet) an elastic supernet");
  AddDataFlags(train, &t.data);
  train->add_option("--out", t.out, "checkpoint (resumed when it exists)")
      ->required();
  train
      ->add_option("--schedule", t.schedule,
                   "quick (<= 5 min here) or default (<= 60 min)")
      ->check(CLI::IsMember({"quick", "default"}));
  train->add_flag("--supernet", t.supernet.enabled,
                  "train an elastic supernet by progressive shrinking");
  train->add_option("--space", t.supernet.space,
                    "supernet: built-in space name or space JSON file");
  train
      ->add_option("--phase-epochs", t.supernet.phase_epochs,
                   "supernet: epochs of full,kernel,depth,expand")
      ->delimiter(',');
  train->add_option("--distill", t.supernet.distill,
                    "supernet: distillation weight (0: off)");
  train
      ->add_option("--elastic-lr-scale", t.supernet.elastic_lr_scale,
                   "supernet: multiplies the kernel, depth and expand phases' "
                   "peak learning rates: S for all three, or K,D,E")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  train->add_option("--subnets-per-step", t.supernet.subnets_per_step,
                    "supernet: subnets sampled per step");
  train
      ->add_option("--with-largest", t.supernet.with_largest,
                   "supernet: 1 = every step also trains the largest subnet")
      ->check(CLI::Range(0, 1));
  train
      ->add_option("--with-smallest", t.supernet.with_smallest,
                   "supernet: 1 = every step also trains the phase's smallest")
      ->check(CLI::Range(0, 1));
  train
      ->add_option("--smallest-every", t.supernet.smallest_every,
                   "supernet: with --with-smallest, the smallest every Nth "
                   "step (a random subnet in its place on the others)")
      ->check(CLI::PositiveNumber);
  train
      ->add_option("--lr-span", t.supernet.lr_span,
                   "supernet: per-phase (a cosine per phase) or whole-run "
                   "(one cosine over all phases)")
      ->check(CLI::IsMember({"per-phase", "whole-run"}));
  train
      ->add_option("--teacher", t.supernet.teacher,
                   "supernet: distillation teacher: frozen (the largest at "
                   "the first elastic phase) or in-place (the step's largest)")
      ->check(CLI::IsMember({"frozen", "in-place"}));
  train
      ->add_option("--subnet-loss", t.supernet.subnet_loss,
                   "supernet: a step's loss over its subnets: mean, sum or "
                   "largest-share (the largest --largest-share of it, the "
                   "others the rest)")
      ->check(CLI::IsMember({"mean", "sum", "largest-share"}));
  train
      ->add_option("--largest-share", t.supernet.largest_share,
                   "supernet: the largest subnet's share of a step's loss "
                   "with --subnet-loss largest-share")
      ->check(CLI::Range(0.0, 1.0));
  train
      ->add_option("--start-from", t.supernet.start_from,
                   "supernet: begin at the phase boundary saved in another "
                   "run's checkpoint (its finished phases must be this "
                   "schedule's first ones)")
      ->check(CLI::ExistingFile);
  train->add_option("--recalibrate", t.supernet.recalibrate,
                    "supernet: BN recalibration images for validation");
  train->add_option("--val-images", t.supernet.validation_images,
                    "supernet: validation images per phase end (0: all)");
  train->add_option("--width", t.net.width, "width multiplier W");
  train->add_option("--resolution", t.net.resolution, "input resolution R");
  train->add_option("--depth", t.net.depth, "blocks per stage")
      ->check(CLI::Range(1, 8));
  train->add_option("--kernel", t.net.kernel, "depthwise kernel")
      ->check(CLI::IsMember({3, 5, 7}));
  train->add_option("--expand", t.net.expand, "expand ratio")
      ->check(CLI::Range(1, 8));
  train->add_option("--epochs", t.epochs, "epochs (default: the schedule's)");
  train->add_option("--batch", t.batch, "batch size")
      ->check(CLI::Range(2, 4096));
  train->add_option("--lr", t.lr,
                    "peak learning rate (default: the schedule's)");
  train->add_option("--warmup-epochs", t.warmup_epochs,
                    "linear warm-up (default: the schedule's)");
  // Checked: a negative value would silently mean "the schedule's" (the
  // unset default), and a decay above 1 would shrink weights faster than
  // any gradient grows them.
  train
      ->add_option("--wd", t.weight_decay,
                   "weight decay (default: the schedule's)")
      ->check(CLI::Range(0.0, 1.0));
  train->add_option("--pad", t.pad, "random-crop padding (0: no crop)");
  train->add_option("--flip", t.flip, "random horizontal flips");
  train->add_option("--threads", t.threads, "worker threads")
      ->check(CLI::Range(1, 256));
  train->add_option("--seed", t.seed, "initialisation, order and augmentation");
  train->add_option("--checkpoint-seconds", t.checkpoint_seconds,
                    "checkpoint at least this often");
  train->add_option("--checkpoint-steps", t.checkpoint_steps,
                    "also checkpoint every N steps");
  train->add_option("--max-steps", t.max_steps,
                    "stop after N steps without saving (testing)");
  train->add_option("--train-limit", t.train_limit,
                    "use only the first N training images");

  tool::EvalFlags e;
  CLI::App* eval = app.add_subcommand("eval", "float (and int8) accuracy");
  AddDataFlags(eval, &e.data);
  eval->add_option("--checkpoint", e.checkpoint, "checkpoint")->required();
  eval->add_option("--split", e.split, "test or validation")
      ->check(CLI::IsMember({"test", "validation"}));
  eval->add_flag("--int8", e.int8, "also quantise and run on the engine");
  eval->add_option("--arch", e.arch,
                   "supernet: subnet (largest, smallest or an ArchSpec)");
  eval->add_option("--calibration", e.calibration,
                   "training images to calibrate int8 ranges");
  eval->add_option("--recalibrate", e.recalibrate,
                   "re-estimate BN statistics on N training images first "
                   "(default: 512 for a subnet, else none)");
  eval->add_option("--limit", e.limit, "evaluate only the first N images");
  eval->add_option("--threads", e.threads, "worker threads");
  eval->add_option("--json", e.json, "also write the results as JSON here");

  tool::ExportFlags x;
  CLI::App* export_cmd =
      app.add_subcommand("export", "int8 engine model from a checkpoint");
  AddDataFlags(export_cmd, &x.data);
  export_cmd->add_option("--checkpoint", x.checkpoint, "checkpoint")
      ->required();
  export_cmd->add_option("--out", x.out, "engine model blob to write")
      ->required();
  export_cmd->add_option("--arch", x.arch,
                         "supernet: subnet (largest, smallest or an ArchSpec)");
  export_cmd->add_option("--recalibrate", x.recalibrate,
                         "BN recalibration images (default: 512 for a subnet)");
  export_cmd->add_option("--calibration", x.calibration,
                         "training images to calibrate int8 ranges");
  export_cmd->add_option("--threads", x.threads, "worker threads");

  tool::PredictorFlags pr;
  CLI::App* predictor = app.add_subcommand(
      "predictor", "measure subnets, train and test the accuracy predictor");
  AddDataFlags(predictor, &pr.data);
  predictor->add_option("--checkpoint", pr.checkpoint, "supernet checkpoint")
      ->required();
  predictor
      ->add_option("--samples", pr.samples,
                   "measured subnets (arch,accuracy lines; reused, appended)")
      ->required();
  predictor->add_option("--out", pr.out, "write the trained predictor here");
  predictor->add_option("--subnets", pr.subnets, "distinct random subnets");
  predictor->add_option("--held-out", pr.held_out,
                        "of them, held out to test the predictor");
  predictor->add_option("--recalibrate", pr.recalibrate,
                        "BN recalibration images per subnet");
  predictor->add_option("--val-images", pr.validation_images,
                        "validation images per subnet (0: all)");
  predictor->add_option("--epochs", pr.epochs, "predictor training steps");
  predictor->add_option("--wd", pr.weight_decay,
                        "predictor weight decay (default: chosen by 5-fold "
                        "cross-validation on the training subnets)");
  predictor->add_flag("--rotate", pr.rotate,
                      "then hold out each block of --held-out subnets in "
                      "turn (same weight decay) and report every block's "
                      "RMSE");
  predictor->add_option("--threads", pr.threads, "worker threads");
  predictor->add_option("--seed", pr.seed, "subnet sampling and init");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    return app.exit(err);
  }
  try {
    if (*train) return tool::TrainCommand(t);
    if (*eval) return tool::EvalCommand(e);
    if (*export_cmd) return tool::ExportCommand(x);
    if (*predictor) return tool::PredictorCommand(pr);
  } catch (const std::exception& err) {
    std::cerr << "mcunas-supernet: " << err.what() << "\n";
    return 1;
  }
  return 2;
}
