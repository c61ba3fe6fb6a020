// The Once-for-All elastic supernet over an MBNet search space at one
// resolution R and width W: one set of weights from which every ArchSpec of
// the space is a subnet.
//
// - Shared weights are those of the largest subnet (every stage at its
//   largest depth, every block at the largest kernel and expand ratio),
//   held in a static Mbnet (mbnet.h).
// - Elastic kernel: a block's k x k depthwise kernel is the centre of the
//   next larger one through a learned k^2 x k^2 transform per layer and size
//   (elastic_kernel.h); the transforms start as the identity.
// - Elastic expand ratio: a block with expand ratio e uses the first
//   e * C_in middle channels (expand conv outputs, depthwise channels,
//   project conv inputs). SortChannelsByImportance orders them by the L1
//   norm of the project conv's input-channel weights, most important first,
//   before the expand ratio is shrunk (OFA's re-organisation).
// - Elastic depth: a stage of depth d runs its first d blocks.
//
// Training: SetActive(arch), Forward(kTrain), Backward; gradients of the
// shared weights the subnet does not use are zero. The active subnet's
// weights are gathered into compact per-block buffers on each Forward, so
// the static net's ops run unchanged, and the gradients scattered back.
//
//   MCUNAS_ASSIGN_OR_RETURN(SearchSpace space, SearchSpace::Builtin(
//       "fashion_mnist")->Restrict(28, 500));
//   MCUNAS_ASSIGN_OR_RETURN(auto net, ElasticSupernet::Create(space, 1));
//   MCUNAS_RETURN_IF_ERROR(net->SetActive(arch));
//   net->Forward(pool, images, ForwardMode::kTrain, &logits);
//   ...
//   MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<Mbnet> sub, net->Extract(arch));
//
// Extract(arch) builds the static Mbnet of a subnet with the same weights
// (transforms applied, channels selected) and running statistics; it
// computes what the supernet computes with that subnet active.
//
// The supernet owns its weights and the activations of the last forward.
// Not thread-safe; the pool parallelises each op.
#ifndef MCUNAS_SUPERNET_ELASTIC_SUPERNET_H_
#define MCUNAS_SUPERNET_ELASTIC_SUPERNET_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mcunas/searchspace/arch_spec.h"
#include "mcunas/searchspace/search_space.h"
#include "mcunas/supernet/mbnet.h"
#include "mcunas/supernet/tensor.h"
#include "mcunas/supernet/thread_pool.h"

namespace mcunas::supernet {

namespace internal {
struct ElasticBlock;  // elastic_supernet.cc
}  // namespace internal

// The static MBNet of `arch` in `space`: channels scaled by the space's
// rounding (SearchSpace::ScaledChannels), middle channels C_in * e, as
// searchspace::BuildNetwork builds it. InvalidArgument when `arch` is not in
// the space; Unimplemented for a space without a head conv.
absl::StatusOr<MbnetConfig> SubnetConfig(const searchspace::SearchSpace& space,
                                         const searchspace::ArchSpec& arch);

// Which choices are elastic while sampling (progressive shrinking turns them
// on one after another); a fixed choice is the stage's largest.
struct Elasticity {
  bool kernel = false;
  bool depth = false;
  bool expand = false;
};

class ElasticSupernet {
 public:
  // REQUIRES: `space` has exactly one resolution and one width
  // (SearchSpace::Restrict). Fails with InvalidArgument otherwise, or when a
  // stage allows expand ratio 1 together with others (a block without an
  // expand conv cannot share one). Weights as Mbnet::Create(seed).
  static absl::StatusOr<std::unique_ptr<ElasticSupernet>> Create(
      const searchspace::SearchSpace& space, uint64_t seed);
  ~ElasticSupernet();
  ElasticSupernet(const ElasticSupernet&) = delete;
  ElasticSupernet& operator=(const ElasticSupernet&) = delete;

  const searchspace::SearchSpace& space() const { return space_; }
  // The largest subnet's config (the shape of the shared weights).
  const MbnetConfig& config() const;
  searchspace::ArchSpec Largest() const;
  searchspace::ArchSpec Smallest() const;
  // Uniform choice per stage depth and per block kernel and expand ratio
  // (OFA's sampling) among the choices `elastic` allows.
  template <typename Rng>
  searchspace::ArchSpec Sample(const Elasticity& elastic, Rng& rng) const;

  // The subnet Forward/Backward run; the largest after Create.
  // InvalidArgument when `arch` is not in the space.
  absl::Status SetActive(const searchspace::ArchSpec& arch);
  const searchspace::ArchSpec& active() const { return active_; }

  // images {N, R, R, C} -> logits of the active subnet. `mode` is kTrain
  // (batch statistics; the running statistics of the channels used are
  // updated) or kInfer (the shared running statistics, which are only
  // right for the subnet that last set them: recalibrate an extracted
  // subnet instead). REQUIRES: shape as Mbnet::Forward; not kRecalibrate.
  void Forward(ThreadPool& pool, const Tensor& images, ForwardMode mode,
               Tensor* logits);
  // Gradients of every parameter (zero where the active subnet does not
  // reach) from d loss / d logits of the last kTrain forward.
  void Backward(ThreadPool& pool, const Tensor& dlogits);

  // The shared net's parameters (Mbnet::Parameters order), then the kernel
  // transforms in block order. Stable for a space.
  std::vector<Parameter*> Parameters();
  std::vector<RunningStats*> BatchNormStats();

  // Reorders every elastic block's middle channels by importance
  // (descending L1 norm of the project weights reading each channel; ties
  // keep their order). The largest subnet computes the same function after
  // as before. Optimizer state tied to the old order (SGD velocity) must be
  // reset by the caller.
  void SortChannelsByImportance();

  // The static net of `arch` with the supernet's weights and running
  // statistics. InvalidArgument when `arch` is not in the space.
  absl::StatusOr<std::unique_ptr<Mbnet>> Extract(
      const searchspace::ArchSpec& arch) const;

 private:
  using Block = internal::ElasticBlock;
  ElasticSupernet(searchspace::SearchSpace space, std::unique_ptr<Mbnet> net);

  searchspace::SearchSpace space_;
  std::unique_ptr<Mbnet> shared_;  // the largest subnet: the shared weights
  std::vector<std::unique_ptr<Block>> blocks_;  // one per block of shared_
  std::vector<int32_t> stage_first_;            // stage -> first block index
  searchspace::ArchSpec active_;
  // Forward state kept for Backward.
  Tensor pooled_, grad_pooled_, grad_head_;
  bool have_train_forward_ = false;
};

template <typename Rng>
searchspace::ArchSpec ElasticSupernet::Sample(const Elasticity& elastic,
                                              Rng& rng) const {
  const auto pick = [&rng](const std::vector<int32_t>& choices, bool free) {
    int32_t best = choices[0];
    for (int32_t c : choices) best = std::max(best, c);
    if (!free) return best;
    return choices[static_cast<size_t>(rng() % choices.size())];
  };
  searchspace::ArchSpec arch;
  arch.resolution = space_.def().resolutions[0];
  arch.width_milli = space_.def().widths_milli[0];
  for (const searchspace::StageDef& stage : space_.def().stages) {
    const int32_t depth = pick(stage.depths, elastic.depth);
    std::vector<searchspace::BlockSpec> blocks;
    for (int32_t b = 0; b < depth; ++b) {
      searchspace::BlockSpec block;
      block.kernel = pick(stage.kernels, elastic.kernel);
      block.expand = pick(stage.expands, elastic.expand);
      blocks.push_back(block);
    }
    arch.stages.push_back(std::move(blocks));
  }
  return arch;
}

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_ELASTIC_SUPERNET_H_
