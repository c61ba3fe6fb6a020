#include "mcunas/supernet/elastic_supernet.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "elastic_kernel.h"
#include "mbnet_internal.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/supernet/ops.h"

namespace mcunas::supernet {

namespace internal {

// One block position of the supernet: the elastic choices it allows, its
// kernel transforms, and a compact copy of the active subnet's weights
// (`work`) that the static block code runs on.
struct ElasticBlock {
  int32_t in_channels = 0;
  int32_t max_mid = 0;
  // The stage's kernels, descending (the first is the shared kernel).
  std::vector<int32_t> kernels;
  bool elastic_expand = false;
  // transforms[j] makes kernels[j + 1] from the centre of kernels[j].
  std::vector<Parameter> transforms;

  // Active choices.
  int32_t kernel = 0;
  int32_t mid = 0;
  MbnetBlock work;
  ElasticKernelCache kernel_cache;

  // The transform chain from the shared kernel down to `k`.
  std::vector<int32_t> Chain(int32_t k) const {
    std::vector<int32_t> chain;
    for (int32_t size : kernels) {
      chain.push_back(size);
      if (size == k) break;
    }
    return chain;
  }
};

}  // namespace internal

namespace {

using internal::ElasticBlock;
using internal::MbnetBlock;
using internal::MbnetLayer;
using searchspace::ArchSpec;
using searchspace::SearchSpace;

int32_t MaxOf(const std::vector<int32_t>& v) {
  return *std::max_element(v.begin(), v.end());
}
int32_t MinOf(const std::vector<int32_t>& v) {
  return *std::min_element(v.begin(), v.end());
}

// Copies a layer's batch norm (first `channels`) into `out`.
void CopyBatchNorm(const MbnetLayer& from, int32_t channels, MbnetLayer* out) {
  out->gamma.value.assign(from.gamma.value.begin(),
                          from.gamma.value.begin() + channels);
  out->beta.value.assign(from.beta.value.begin(),
                         from.beta.value.begin() + channels);
  out->gamma.grad.resize(channels);
  out->beta.grad.resize(channels);
  out->stats.mean.assign(from.stats.mean.begin(),
                         from.stats.mean.begin() + channels);
  out->stats.var.assign(from.stats.var.begin(),
                        from.stats.var.begin() + channels);
}

void CopyStatsBack(const MbnetLayer& work, MbnetLayer* shared) {
  std::copy(work.stats.mean.begin(), work.stats.mean.end(),
            shared->stats.mean.begin());
  std::copy(work.stats.var.begin(), work.stats.var.end(),
            shared->stats.var.begin());
}

void AddBatchNormGrads(const MbnetLayer& work, MbnetLayer* shared) {
  for (size_t c = 0; c < work.gamma.grad.size(); ++c) {
    shared->gamma.grad[c] += work.gamma.grad[c];
    shared->beta.grad[c] += work.beta.grad[c];
  }
}

std::vector<const float*> Matrices(const ElasticBlock& e, size_t steps) {
  std::vector<const float*> m;
  for (size_t j = 0; j < steps; ++j) m.push_back(e.transforms[j].value.data());
  return m;
}

// Writes the weights of `shared` with the choices of `e` (kernel, mid) into
// `out`, a block of the same position.
void Materialise(const MbnetBlock& shared, ElasticBlock& e, MbnetBlock* out) {
  const int32_t mid = e.mid;
  out->residual = shared.residual;
  if (shared.expand != nullptr) {
    MbnetLayer& x = *out->expand;
    x.name = shared.expand->name;
    x.shape = shared.expand->shape;
    x.shape.out_channels = mid;
    const auto& w = shared.expand->weight.value;
    x.weight.value.assign(w.begin(), w.begin() + int64_t{mid} * e.in_channels);
    x.weight.grad.resize(x.weight.value.size());
    CopyBatchNorm(*shared.expand, mid, &x);
  }
  MbnetLayer& d = *out->depthwise;
  d.name = shared.depthwise->name;
  d.shape = shared.depthwise->shape;
  d.shape.kernel_h = d.shape.kernel_w = e.kernel;
  d.shape.out_channels = mid;
  d.weight.value.resize(static_cast<size_t>(e.kernel) * e.kernel * mid);
  d.weight.grad.resize(d.weight.value.size());
  const std::vector<int32_t> chain = e.Chain(e.kernel);
  internal::ElasticKernelForward(
      shared.depthwise->weight.value.data(), e.max_mid, mid, chain,
      Matrices(e, chain.size() - 1), &e.kernel_cache, d.weight.value.data());
  CopyBatchNorm(*shared.depthwise, mid, &d);
  MbnetLayer& p = *out->project;
  p.name = shared.project->name;
  p.shape = shared.project->shape;
  const int32_t out_channels = p.shape.out_channels;
  p.weight.value.resize(static_cast<size_t>(out_channels) * mid);
  p.weight.grad.resize(p.weight.value.size());
  for (int32_t o = 0; o < out_channels; ++o) {
    const float* src =
        shared.project->weight.value.data() + int64_t{o} * e.max_mid;
    std::copy(src, src + mid, p.weight.value.data() + int64_t{o} * mid);
  }
  CopyBatchNorm(*shared.project, out_channels, &p);
}

// Adds the gradients of the compact block into the shared weights (and the
// kernel transforms).
void ScatterGrads(const MbnetBlock& work, ElasticBlock& e, MbnetBlock* shared) {
  const int32_t mid = e.mid;
  if (shared->expand != nullptr) {
    std::vector<float>& g = shared->expand->weight.grad;
    for (size_t i = 0; i < work.expand->weight.grad.size(); ++i) {
      g[i] += work.expand->weight.grad[i];
    }
    AddBatchNormGrads(*work.expand, shared->expand.get());
  }
  const std::vector<int32_t> chain = e.Chain(e.kernel);
  std::vector<float*> dmatrices;
  for (size_t j = 0; j + 1 < chain.size(); ++j) {
    dmatrices.push_back(e.transforms[j].grad.data());
  }
  internal::ElasticKernelBackward(
      work.depthwise->weight.grad.data(), e.max_mid, mid, chain,
      Matrices(e, chain.size() - 1), e.kernel_cache,
      shared->depthwise->weight.grad.data(), dmatrices);
  AddBatchNormGrads(*work.depthwise, shared->depthwise.get());
  const int32_t out_channels = shared->project->shape.out_channels;
  for (int32_t o = 0; o < out_channels; ++o) {
    const float* src = work.project->weight.grad.data() + int64_t{o} * mid;
    float* dst = shared->project->weight.grad.data() + int64_t{o} * e.max_mid;
    for (int32_t c = 0; c < mid; ++c) dst[c] += src[c];
  }
  AddBatchNormGrads(*work.project, shared->project.get());
}

void ZeroGrads(MbnetLayer* l) {
  std::fill(l->weight.grad.begin(), l->weight.grad.end(), 0.0f);
  std::fill(l->gamma.grad.begin(), l->gamma.grad.end(), 0.0f);
  std::fill(l->beta.grad.begin(), l->beta.grad.end(), 0.0f);
}

// A layer of the same kind as `shape_of` with empty weights (Materialise
// sizes them).
std::unique_ptr<MbnetLayer> EmptyLike(const MbnetLayer& shape_of) {
  auto l = std::make_unique<MbnetLayer>();
  l->name = shape_of.name;
  l->depthwise = shape_of.depthwise;
  l->shape = shape_of.shape;
  l->relu6 = shape_of.relu6;
  l->weight.name = shape_of.weight.name;
  l->gamma = {shape_of.gamma.name, {}, {}, false};
  l->beta = {shape_of.beta.name, {}, {}, false};
  l->stats.name = shape_of.stats.name;
  return l;
}

// Applies `order` (new position -> old channel) to `count` groups of
// `channels` values with the given stride, in place.
void Permute(std::vector<float>* v, const std::vector<int32_t>& order,
             int64_t groups, int64_t stride, int64_t inner) {
  std::vector<float> old(*v);
  for (int64_t g = 0; g < groups; ++g) {
    for (size_t c = 0; c < order.size(); ++c) {
      std::copy(old.begin() + g * stride + order[c] * inner,
                old.begin() + g * stride + (order[c] + 1) * inner,
                v->begin() + g * stride + static_cast<int64_t>(c) * inner);
    }
  }
}

void PermuteBatchNorm(MbnetLayer* l, const std::vector<int32_t>& order) {
  const int64_t n = static_cast<int64_t>(order.size());
  Permute(&l->gamma.value, order, 1, n, 1);
  Permute(&l->beta.value, order, 1, n, 1);
  Permute(&l->stats.mean, order, 1, n, 1);
  Permute(&l->stats.var, order, 1, n, 1);
}

}  // namespace

absl::StatusOr<MbnetConfig> SubnetConfig(const SearchSpace& space,
                                         const ArchSpec& arch) {
  MCUNAS_RETURN_IF_ERROR(space.Validate(arch));
  const searchspace::SpaceDef& def = space.def();
  if (def.head_channels <= 0) {
    return absl::UnimplementedError(absl::StrCat(
        "space '", def.name, "' has no head conv; the supernet needs one"));
  }
  const int32_t w = arch.width_milli;
  MbnetConfig c;
  c.resolution = arch.resolution;
  c.input_channels = def.input_channels;
  c.stem_channels = space.ScaledChannels(def.stem_channels, w);
  c.stem_kernel = def.stem_kernel;
  c.stem_stride = def.stem_stride;
  for (size_t s = 0; s < def.stages.size(); ++s) {
    MbnetStageConfig stage;
    stage.channels = space.ScaledChannels(def.stages[s].channels, w);
    stage.stride = def.stages[s].stride;
    for (const searchspace::BlockSpec& b : arch.stages[s]) {
      stage.blocks.push_back({b.kernel, b.expand});
    }
    c.stages.push_back(std::move(stage));
  }
  c.head_channels = space.ScaledChannels(def.head_channels, w);
  c.classes = def.classes;
  return c;
}

ElasticSupernet::ElasticSupernet(SearchSpace space, std::unique_ptr<Mbnet> net)
    : space_(std::move(space)), shared_(std::move(net)) {}
ElasticSupernet::~ElasticSupernet() = default;

absl::StatusOr<std::unique_ptr<ElasticSupernet>> ElasticSupernet::Create(
    const SearchSpace& space, uint64_t seed) {
  const searchspace::SpaceDef& def = space.def();
  if (def.resolutions.size() != 1 || def.widths_milli.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "space '", def.name,
        "': a supernet is for one resolution and one width (Restrict)"));
  }
  for (size_t s = 0; s < def.stages.size(); ++s) {
    for (int32_t k : def.stages[s].kernels) {
      if (k % 2 == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("space '", def.name, "' stage ", s, ": kernel ", k,
                         " is even; elastic kernels are centre crops"));
      }
    }
    const std::vector<int32_t>& e = def.stages[s].expands;
    if (e.size() > 1 && MinOf(e) == 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "space '", def.name, "' stage ", s,
          ": expand ratio 1 (no expand conv) cannot be elastic with others"));
    }
  }
  ArchSpec largest;
  largest.resolution = def.resolutions[0];
  largest.width_milli = def.widths_milli[0];
  for (const searchspace::StageDef& st : def.stages) {
    largest.stages.emplace_back(
        MaxOf(st.depths),
        searchspace::BlockSpec{MaxOf(st.kernels), MaxOf(st.expands)});
  }
  MCUNAS_ASSIGN_OR_RETURN(MbnetConfig config, SubnetConfig(space, largest));
  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<Mbnet> net,
                          Mbnet::Create(config, seed));
  std::unique_ptr<ElasticSupernet> sn(
      new ElasticSupernet(space, std::move(net)));
  int32_t in_channels = config.stem_channels;
  for (size_t s = 0; s < def.stages.size(); ++s) {
    const searchspace::StageDef& st = def.stages[s];
    sn->stage_first_.push_back(static_cast<int32_t>(sn->blocks_.size()));
    std::vector<int32_t> kernels = st.kernels;
    std::sort(kernels.rbegin(), kernels.rend());
    for (int32_t b = 0; b < MaxOf(st.depths); ++b) {
      const MbnetBlock& shared =
          *sn->shared_->blocks_[static_cast<size_t>(sn->blocks_.size())];
      auto e = std::make_unique<Block>();
      e->in_channels = in_channels;
      e->max_mid = shared.depthwise->shape.out_channels;
      e->kernels = kernels;
      e->elastic_expand = st.expands.size() > 1;
      for (size_t j = 1; j < kernels.size(); ++j) {
        const int32_t taps = kernels[j] * kernels[j];
        // Identity: at the start a smaller kernel is the plain centre crop.
        // No weight decay, which would pull it towards zero, not identity.
        Parameter t{absl::StrCat(shared.depthwise->name, ".k", kernels[j - 1],
                                 "to", kernels[j]),
                    std::vector<float>(static_cast<size_t>(taps) * taps, 0.0f),
                    std::vector<float>(static_cast<size_t>(taps) * taps, 0.0f),
                    false};
        for (int32_t i = 0; i < taps; ++i) t.value[i * taps + i] = 1.0f;
        e->transforms.push_back(std::move(t));
      }
      if (shared.expand != nullptr) e->work.expand = EmptyLike(*shared.expand);
      e->work.depthwise = EmptyLike(*shared.depthwise);
      e->work.project = EmptyLike(*shared.project);
      sn->blocks_.push_back(std::move(e));
      in_channels = config.stages[s].channels;
    }
  }
  MCUNAS_RETURN_IF_ERROR(sn->SetActive(largest));
  return sn;
}

const MbnetConfig& ElasticSupernet::config() const { return shared_->config(); }

ArchSpec ElasticSupernet::Largest() const {
  struct All {
    uint64_t operator()() { return 0; }
  } unused;
  return Sample(Elasticity{}, unused);
}

ArchSpec ElasticSupernet::Smallest() const {
  ArchSpec arch = Largest();
  for (size_t s = 0; s < arch.stages.size(); ++s) {
    const searchspace::StageDef& st = space_.def().stages[s];
    arch.stages[s].assign(
        MinOf(st.depths),
        searchspace::BlockSpec{MinOf(st.kernels), MinOf(st.expands)});
  }
  return arch;
}

absl::Status ElasticSupernet::SetActive(const ArchSpec& arch) {
  MCUNAS_RETURN_IF_ERROR(space_.Validate(arch));
  for (size_t s = 0; s < arch.stages.size(); ++s) {
    for (size_t b = 0; b < arch.stages[s].size(); ++b) {
      Block& e = *blocks_[stage_first_[s] + b];
      e.kernel = arch.stages[s][b].kernel;
      e.mid = e.in_channels * arch.stages[s][b].expand;
    }
  }
  active_ = arch;
  return absl::OkStatus();
}

void ElasticSupernet::Forward(ThreadPool& pool, const Tensor& images,
                              ForwardMode mode, Tensor* logits) {
  const MbnetConfig& c = shared_->config_;
  if (mode == ForwardMode::kRecalibrate || images.rank() != 4 ||
      images.dim(1) != c.resolution || images.dim(2) != c.resolution ||
      images.dim(3) != c.input_channels) {
    std::fprintf(stderr,
                 "ElasticSupernet::Forward: images %s (net expects [N, %d, %d, "
                 "%d]), mode %d\n",
                 images.ShapeString().c_str(), c.resolution, c.resolution,
                 c.input_channels, static_cast<int>(mode));
    std::abort();
  }
  shared_->stem_->Forward(pool, images, mode, c, 0);
  const Tensor* h = &shared_->stem_->z;
  for (size_t s = 0; s < active_.stages.size(); ++s) {
    for (size_t b = 0; b < active_.stages[s].size(); ++b) {
      const size_t i = stage_first_[s] + b;
      Block& e = *blocks_[i];
      MbnetBlock& shared = *shared_->blocks_[i];
      Materialise(shared, e, &e.work);
      h = &e.work.Forward(pool, *h, mode, c, 0);
      if (mode == ForwardMode::kTrain) {
        if (shared.expand != nullptr) {
          CopyStatsBack(*e.work.expand, shared.expand.get());
        }
        CopyStatsBack(*e.work.depthwise, shared.depthwise.get());
        CopyStatsBack(*e.work.project, shared.project.get());
      }
    }
  }
  shared_->head_->Forward(pool, *h, mode, c, 0);
  GlobalAvgPoolForward(pool, shared_->head_->z, &pooled_);
  FullyConnectedForward(pooled_, shared_->fc_weight_.value.data(),
                        shared_->fc_bias_.value.data(), c.classes, logits);
  have_train_forward_ = mode == ForwardMode::kTrain;
}

void ElasticSupernet::Backward(ThreadPool& pool, const Tensor& dlogits) {
  if (!have_train_forward_) {
    std::fprintf(stderr,
                 "ElasticSupernet::Backward without a kTrain forward\n");
    std::abort();
  }
  Mbnet& n = *shared_;
  FullyConnectedBackward(pooled_, n.fc_weight_.value.data(), n.config_.classes,
                         dlogits, &grad_pooled_, n.fc_weight_.grad.data(),
                         n.fc_bias_.grad.data());
  GlobalAvgPoolBackward(pool, n.head_->z.shape(), grad_pooled_, &grad_head_);
  n.head_->Backward(pool, grad_head_, true);
  const Tensor* grad = &n.head_->grad_input;
  for (size_t s = active_.stages.size(); s-- > 0;) {
    for (size_t b = active_.stages[s].size(); b-- > 0;) {
      grad = blocks_[stage_first_[s] + b]->work.Backward(pool, *grad);
    }
  }
  n.stem_->Backward(pool, *grad, false);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    MbnetBlock& shared = *n.blocks_[i];
    if (shared.expand != nullptr) ZeroGrads(shared.expand.get());
    ZeroGrads(shared.depthwise.get());
    ZeroGrads(shared.project.get());
    for (Parameter& t : blocks_[i]->transforms) {
      std::fill(t.grad.begin(), t.grad.end(), 0.0f);
    }
  }
  for (size_t s = 0; s < active_.stages.size(); ++s) {
    for (size_t b = 0; b < active_.stages[s].size(); ++b) {
      const size_t i = stage_first_[s] + b;
      ScatterGrads(blocks_[i]->work, *blocks_[i], n.blocks_[i].get());
    }
  }
}

std::vector<Parameter*> ElasticSupernet::Parameters() {
  std::vector<Parameter*> out = shared_->Parameters();
  for (const std::unique_ptr<Block>& e : blocks_) {
    for (Parameter& t : e->transforms) out.push_back(&t);
  }
  return out;
}

std::vector<RunningStats*> ElasticSupernet::BatchNormStats() {
  return shared_->BatchNormStats();
}

void ElasticSupernet::SortChannelsByImportance() {
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const Block& e = *blocks_[i];
    MbnetBlock& b = *shared_->blocks_[i];
    if (!e.elastic_expand || b.expand == nullptr) continue;
    const int32_t m = e.max_mid;
    const int32_t out = b.project->shape.out_channels;
    std::vector<double> importance(m, 0.0);
    for (int32_t o = 0; o < out; ++o) {
      for (int32_t c = 0; c < m; ++c) {
        importance[c] += std::abs(b.project->weight.value[int64_t{o} * m + c]);
      }
    }
    std::vector<int32_t> order(m);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t c) {
      return importance[a] > importance[c];
    });
    Permute(&b.expand->weight.value, order, 1, 0, e.in_channels);
    PermuteBatchNorm(b.expand.get(), order);
    const int64_t taps =
        int64_t{b.depthwise->shape.kernel_h} * b.depthwise->shape.kernel_w;
    Permute(&b.depthwise->weight.value, order, taps, m, 1);
    PermuteBatchNorm(b.depthwise.get(), order);
    Permute(&b.project->weight.value, order, out, m, 1);
  }
}

absl::StatusOr<std::unique_ptr<Mbnet>> ElasticSupernet::Extract(
    const ArchSpec& arch) const {
  MCUNAS_ASSIGN_OR_RETURN(MbnetConfig config, SubnetConfig(space_, arch));
  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<Mbnet> net, Mbnet::Create(config, 0));
  const auto copy_layer = [](const MbnetLayer& from, MbnetLayer* to) {
    to->weight.value = from.weight.value;
    to->gamma.value = from.gamma.value;
    to->beta.value = from.beta.value;
    to->stats.mean = from.stats.mean;
    to->stats.var = from.stats.var;
  };
  copy_layer(*shared_->stem_, net->stem_.get());
  copy_layer(*shared_->head_, net->head_.get());
  net->fc_weight_.value = shared_->fc_weight_.value;
  net->fc_bias_.value = shared_->fc_bias_.value;
  size_t next = 0;
  for (size_t s = 0; s < arch.stages.size(); ++s) {
    for (size_t b = 0; b < arch.stages[s].size(); ++b) {
      const size_t i = stage_first_[s] + b;
      // A private copy of the position's choices: Extract is const and
      // must not disturb the active subnet's state.
      Block e;
      e.in_channels = blocks_[i]->in_channels;
      e.max_mid = blocks_[i]->max_mid;
      e.kernels = blocks_[i]->kernels;
      e.transforms = blocks_[i]->transforms;
      e.kernel = arch.stages[s][b].kernel;
      e.mid = e.in_channels * arch.stages[s][b].expand;
      MbnetBlock& out = *net->blocks_[next++];
      Materialise(*shared_->blocks_[i], e, &out);
    }
  }
  return net;
}

}  // namespace mcunas::supernet
