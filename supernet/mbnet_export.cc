// Mbnet::ExportFloatGraph: the trained net as the engine's FloatGraph. Our
// ops already follow FloatGraph's conventions (SAME padding, OHWI and
// [kh][kw][C] weights, NHWC), so export copies weights and running
// statistics without reordering.
#include "absl/strings/str_cat.h"
#include "mbnet_internal.h"
#include "mcunas/common/status_macros.h"

namespace mcunas::supernet {
namespace {

absl::StatusOr<int32_t> AppendLayer(engine::FloatGraph* g,
                                    const internal::MbnetLayer& layer,
                                    int32_t input, float eps) {
  engine::FloatOp op;
  op.type = layer.depthwise ? engine::FloatOpType::kDepthwiseConv2D
                            : engine::FloatOpType::kConv2D;
  op.name = layer.name;
  op.activation =
      layer.relu6 ? engine::Activation::kRelu6 : engine::Activation::kNone;
  op.kernel_h = layer.shape.kernel_h;
  op.kernel_w = layer.shape.kernel_w;
  op.stride_h = layer.shape.stride_h;
  op.stride_w = layer.shape.stride_w;
  if (!layer.depthwise) op.out_channels = layer.shape.out_channels;
  op.inputs = {input};
  op.weights = layer.weight.value;
  engine::BatchNorm bn;
  bn.gamma = layer.gamma.value;
  bn.beta = layer.beta.value;
  bn.mean = layer.stats.mean;
  bn.var = layer.stats.var;
  bn.eps = eps;
  op.batch_norm = std::move(bn);
  return engine::AppendOp(g, std::move(op), layer.name);
}

}  // namespace

absl::StatusOr<engine::FloatGraph> Mbnet::ExportFloatGraph() const {
  engine::FloatGraph g;
  const float eps = config_.bn_eps;
  int32_t x = engine::AddGraphInput(
      &g, "image",
      {1, config_.resolution, config_.resolution, config_.input_channels});
  MCUNAS_ASSIGN_OR_RETURN(x, AppendLayer(&g, *stem_, x, eps));
  for (const std::unique_ptr<Block>& block : blocks_) {
    const int32_t block_input = x;
    if (block->expand != nullptr) {
      MCUNAS_ASSIGN_OR_RETURN(x, AppendLayer(&g, *block->expand, x, eps));
    }
    MCUNAS_ASSIGN_OR_RETURN(x, AppendLayer(&g, *block->depthwise, x, eps));
    MCUNAS_ASSIGN_OR_RETURN(x, AppendLayer(&g, *block->project, x, eps));
    if (block->residual) {
      engine::FloatOp add;
      add.type = engine::FloatOpType::kAdd;
      const std::string name = block->project->name + ".add";
      add.name = name;
      add.inputs = {x, block_input};
      MCUNAS_ASSIGN_OR_RETURN(x, engine::AppendOp(&g, std::move(add), name));
    }
  }
  MCUNAS_ASSIGN_OR_RETURN(x, AppendLayer(&g, *head_, x, eps));
  engine::FloatOp pool;
  pool.type = engine::FloatOpType::kGlobalAveragePool;
  pool.name = "pool";
  pool.inputs = {x};
  MCUNAS_ASSIGN_OR_RETURN(x, engine::AppendOp(&g, std::move(pool), "pool"));
  engine::FloatOp fc;
  fc.type = engine::FloatOpType::kFullyConnected;
  fc.name = "fc";
  fc.out_channels = config_.classes;
  fc.inputs = {x};
  fc.weights = fc_weight_.value;
  fc.bias = fc_bias_.value;
  MCUNAS_ASSIGN_OR_RETURN(x, engine::AppendOp(&g, std::move(fc), "logits"));
  g.output = x;
  MCUNAS_RETURN_IF_ERROR(engine::ValidateFloatGraph(g));
  return g;
}

}  // namespace mcunas::supernet
