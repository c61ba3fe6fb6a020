// Whole models for the test firmware to run against the host engine: model
// blobs, inputs and the outputs the host computed for them.
// make_board_fixture (engine/port/board_fixture) generates the C++ source
// that defines kBoardFixture; no_board_fixture.cc defines an empty one for
// firmware configured without MCUNAS_BOARD_FIXTURE. All of it is constant
// data in flash (blobs run in place) that nothing owns or frees; safe to
// read from any context.
#ifndef MCUNAS_ENGINE_PORT_CORTEX_M_BOARD_FIXTURE_H_
#define MCUNAS_ENGINE_PORT_CORTEX_M_BOARD_FIXTURE_H_

#include <stdint.h>

namespace mcunas::engine::port {

struct BoardFixtureModel {
  const char* name;     // the graph and its options, for messages
  const uint8_t* blob;  // the model blob, 16-byte aligned as Model::Load needs
  uint32_t blob_bytes;
  uint32_t runs;           // how many inputs follow
  uint32_t input_bytes;    // per run: every model input, in order, back to back
  uint32_t output_bytes;   // per run: every model output, in order
  const int8_t* inputs;    // runs * input_bytes
  const int8_t* expected;  // runs * output_bytes, host reference kernels
  // CRC-32 (Crc32 in model.h) of each op's output tensor right after the op
  // ran on the host: runs * op_count, run-major. The model outputs alone
  // could hide a wrong activation that pooling averaged away.
  uint32_t op_count;
  const uint32_t* op_crcs;
};

struct BoardFixture {
  const BoardFixtureModel* models;
  uint32_t model_count;
};

extern const BoardFixture kBoardFixture;

}  // namespace mcunas::engine::port

#endif  // MCUNAS_ENGINE_PORT_CORTEX_M_BOARD_FIXTURE_H_
