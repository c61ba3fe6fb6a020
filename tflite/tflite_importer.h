// Private to tflite/. The importer's state while it turns one .tflite into a
// QuantGraph; tflite_import.cc has the driver (edge ops, PAD folding, error
// collection), tflite_ops.cc one converter per TFLite op family,
// tflite_tensors.cc the tensor mapping.
//
// Each converter either appends engine ops and tensors or returns an error
// for its op alone: Unimplemented for valid TFLite the engine cannot run,
// InvalidArgument for a malformed op. The driver collects every op's error,
// so one message lists all unsupported ops. Tensors are mapped lazily (an
// engine tensor is made when an op first names the TFLite tensor), so an
// unsupported op does not cascade into errors in the ops that read its
// output. Single use; not thread-safe.
#ifndef MCUNAS_TFLITE_TFLITE_IMPORTER_H_
#define MCUNAS_TFLITE_TFLITE_IMPORTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mcunas/engine/host/quant_graph.h"
#include "mcunas/tflite/tflite_import.h"
#include "tflite/tflite_reader.h"

namespace mcunas::tflite {

class Importer {
 public:
  explicit Importer(const ModelReader& reader) : reader_(reader) {}

  // Builds graph and ops; fails listing every op that could not be
  // imported.
  absl::Status Run();

  engine::QuantGraph& graph() { return graph_; }
  std::vector<ImportedOp>& ops() { return ops_; }

 private:
  // A PAD folded into the convolution that reads it.
  struct PadFold {
    int32_t pad_op = -1;  // -1: none
    int32_t source = -1;  // the PAD's input tensor (TFLite index)
    int32_t top = 0, bottom = 0, left = 0, right = 0;
  };

  // tflite_import.cc
  absl::Status FindEdgeOps();
  void FindPadFolds();
  // Op i's input and output tensor indices, with the arity checked:
  // min_inputs..max_inputs inputs (the first present) and one output.
  struct OpIo {
    std::vector<int32_t> in;
    std::vector<int32_t> out;
  };
  absl::StatusOr<OpIo> ReadOpIo(int32_t i, size_t min_inputs,
                                size_t max_inputs) const;

  absl::Status ConvertOp(int32_t i, int32_t code);
  // Every activation input must be a model input or an earlier op's output.
  absl::Status CheckWritten(const std::vector<int32_t>& inputs);

  // tflite_ops.cc
  absl::Status ConvertConv(int32_t i, bool depthwise);
  absl::Status ConvertPool(int32_t i);
  absl::Status ConvertFullyConnected(int32_t i);
  absl::Status ConvertAdd(int32_t i);
  absl::Status ConvertReshape(int32_t i);
  absl::Status ConvertSoftmax(int32_t i);
  absl::Status ConvertMean(int32_t i);
  absl::Status ConvertTranspose(int32_t i);
  absl::Status ConvertPad(int32_t i);
  absl::Status ConvertQuantize(int32_t i);
  // The fold PAD op `pad` into convolution `conv` would have, if legal.
  bool PadFoldFor(int32_t pad, int32_t conv, PadFold* fold) const;
  // H/W padding of PAD/PADV2 op `i` (its paddings input), failing for
  // batch/channel padding or a pad value other than the zero point.
  absl::Status SpatialPads(int32_t i, PadFold* pads) const;

  // tflite_tensors.cc
  // The engine tensor for TFLite activation `t` (int8, per-tensor
  // quantised, batch 1), made on first use.
  absl::StatusOr<int32_t> Activation(int32_t t);
  // The engine tensor for constant `t`: int8 weights with `channels` scales
  // (or one) along `quantized_dimension` and zero points 0, or int32 bias
  // of `channels` values.
  absl::StatusOr<int32_t> Weights(int32_t t, int32_t quantized_dimension,
                                  int32_t channels);
  absl::StatusOr<int32_t> Bias(int32_t t, int32_t channels);
  // The int32/int64 values of a small constant (axes, permutations, shapes,
  // paddings).
  absl::StatusOr<std::vector<int64_t>> IntValues(int32_t t) const;
  // Appends `op`, reading engine tensors `inputs` and writing `output`, as
  // the engine op of TFLite op `i`. Always OK: converters end with
  // `return AddOp(...)`.
  absl::Status AddOp(int32_t i, engine::QuantOp op,
                     std::vector<int32_t> inputs, int32_t output);
  // Appends `q` as the engine tensor of TFLite tensor `t`; returns its index.
  int32_t AddTensor(int32_t t, engine::QuantTensor q);
  const engine::QuantTensor& tensor(int32_t engine_index) const {
    return graph_.tensors[engine_index];
  }

  const ModelReader& reader_;
  engine::QuantGraph graph_;
  std::vector<ImportedOp> ops_;
  std::vector<int32_t> engine_tensor_;  // per TFLite tensor; -1 = not made
  std::vector<int32_t> readers_;        // per TFLite tensor: ops reading it
  std::vector<bool> graph_output_;      // per TFLite tensor
  std::vector<bool> written_;           // per TFLite tensor, as ops convert
  std::vector<PadFold> fold_;           // per op: the PAD folded into it
  std::vector<int32_t> folded_into_;    // per op: the conv a PAD went into
  std::vector<bool> dropped_;           // per op: an edge (DE)QUANTIZE
  std::vector<int32_t> inputs_, outputs_;  // TFLite tensors of the engine
                                           // model's inputs and outputs
};

// "op 3 CONV_2D" and its first output's name, for messages.
std::string OpLabel(const ModelReader& reader, int32_t i);
// "[1,96,96,1]", for messages.
std::string ShapeString(const std::vector<int32_t>& shape);

}  // namespace mcunas::tflite

#endif  // MCUNAS_TFLITE_TFLITE_IMPORTER_H_
