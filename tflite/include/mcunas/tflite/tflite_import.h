// Host only. Imports an int8 TensorFlow Lite model (.tflite) into the engine.
//
// The result runs byte-exact with TensorFlow Lite Micro's reference kernels:
// the importer keeps TFLite's float scales and zero points in a QuantGraph,
// and WriteModel derives the fixed-point parameters as TFLite Micro's Prepare
// does. Supported: CONV_2D, DEPTHWISE_CONV_2D, ADD, AVERAGE_POOL_2D, MEAN,
// FULLY_CONNECTED, RESHAPE (and SQUEEZE, EXPAND_DIMS), SOFTMAX, PAD, PADV2,
// TRANSPOSE, QUANTIZE, DEQUANTIZE, with per-tensor or per-channel int8
// weights; docs/tflite.md has the details. A PAD whose only reader is a
// convolution is folded into its padding; a float QUANTIZE at a model input
// and a float DEQUANTIZE at a model output are dropped (the engine's I/O is
// int8), and `ops` records both.
//
// A model with unsupported ops or types is rejected as a whole with one
// error that lists every offending op ("unsupported: op 3 LOGISTIC, op 7
// MAX_POOL_2D"); a malformed file (truncated, bad offsets, bad enums, huge
// shapes) gets an InvalidArgument error naming what is wrong. Nothing is
// ever half-imported.
//
//   MCUNAS_ASSIGN_OR_RETURN(ImportedModel m, ImportTfliteFile("m.tflite"));
//   auto loaded = engine::LoadedModel::FromBytes(m.blob);
//
// Stateless functions; thread-safe.
#ifndef MCUNAS_TFLITE_TFLITE_IMPORT_H_
#define MCUNAS_TFLITE_TFLITE_IMPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/host/quant_graph.h"

namespace mcunas::tflite {

// What became of one TFLite operator.
enum class OpFate : uint8_t {
  kImported,  // became engine op `engine_op`
  kFolded,    // merged into the op that reads it (a PAD into a convolution)
  kDropped,   // a float QUANTIZE/DEQUANTIZE at the model's edge
};

struct ImportedOp {
  int32_t tflite_op = -1;  // index in subgraph 0
  std::string name;        // "CONV_2D"
  OpFate fate = OpFate::kImported;
  int32_t engine_op = -1;  // kImported: index into graph.ops
  // The engine tensor holding this op's (int8) output, valid right after
  // engine op `engine_op` ran; for a dropped input QUANTIZE it is the model
  // input. -1 when the output does not exist in the engine (a folded PAD, a
  // dropped output DEQUANTIZE, whose output is float).
  int32_t output_tensor = -1;
  std::string note;  // kFolded/kDropped: what happened, for users
};

struct ImportedModel {
  engine::QuantGraph graph;
  std::vector<ImportedOp> ops;  // one per TFLite operator, in order
  std::vector<uint8_t> blob;    // WriteModel(graph, options)
  std::string description;      // the .tflite's description string
};

// `data` need not be aligned; it is copied. `write` is passed to WriteModel.
absl::StatusOr<ImportedModel> ImportTflite(
    const uint8_t* data, size_t size,
    const engine::WriteOptions& write = {});
// Reads and imports a file; errors start with the path.
absl::StatusOr<ImportedModel> ImportTfliteFile(
    const std::string& path, const engine::WriteOptions& write = {});

// Whether `data` carries the .tflite file identifier ("TFL3" at byte 4).
bool HasTfliteIdentifier(const uint8_t* data, size_t size);

}  // namespace mcunas::tflite

#endif  // MCUNAS_TFLITE_TFLITE_IMPORT_H_
