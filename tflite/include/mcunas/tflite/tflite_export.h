// Host only. Writes an engine model as an int8 TensorFlow Lite model
// (.tflite, schema version 3) for TFLite Micro or X-CUBE-AI projects.
//
// Every engine op becomes the TFLite builtin with the same semantics
// (conv -> CONV_2D, depthwise -> DEPTHWISE_CONV_2D, ... reshape -> RESHAPE,
// quantize -> QUANTIZE), with the op version TFLite's converter gives int8
// ops, the float scales and zero points the engine's parameters were
// derived from (per-channel weights along TFLite's quantized dimension), and
// SAME/VALID padding; padding that is neither becomes an explicit PAD before
// a VALID convolution. Importing the result gives back the same outputs
// byte for byte (tflite_export_test checks this), because TFLite Micro
// derives its fixed-point parameters from those floats exactly as the
// engine's writer does.
//
// Not verified against a TensorFlow Lite runtime here (none is installed);
// the output is checked with flatbuffers::Verifier, `flatc --json` and the
// importer. Stateless functions; thread-safe.
#ifndef MCUNAS_TFLITE_TFLITE_EXPORT_H_
#define MCUNAS_TFLITE_TFLITE_EXPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/engine/host/quant_graph.h"
#include "mcunas/engine/model.h"

namespace mcunas::tflite {

struct ExportOptions {
  std::string description = "mcunas";  // the model's description string
};

// Fails with InvalidArgument when WriteModel would reject `graph`, and with
// Unimplemented for what TFLite cannot express (an average pool whose
// padding is neither SAME nor VALID).
absl::StatusOr<std::vector<uint8_t>> ExportTflite(
    const engine::QuantGraph& graph, const ExportOptions& options = {});

// Exports a loaded blob: GraphFromModel, then ExportTflite.
absl::StatusOr<std::vector<uint8_t>> ExportTflite(
    const engine::Model& model, const ExportOptions& options = {});

}  // namespace mcunas::tflite

#endif  // MCUNAS_TFLITE_TFLITE_EXPORT_H_
