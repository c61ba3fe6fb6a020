#include "model_runner.h"

#include <stdint.h>
#include <string.h>

#include "board_fixture.h"
#include "mcunas/engine/interpreter.h"
#include "mcunas/engine/kernels.h"
#include "mcunas/engine/model.h"
#include "mcunas/engine/status.h"
#include "text_line.h"

namespace mcunas::engine::port {
namespace {

alignas(16) uint8_t g_model_arena[kModelArenaBytes];

// The host computed the expected outputs in a zeroed arena; filling this one
// with something else first makes any read of an arena byte before it was
// written show up as a mismatch.
constexpr uint8_t kArenaFill = 0xA5;

struct Tally {
  uint32_t runs = 0;
  uint32_t mismatches = 0;
  bool mismatch_reported = false;  // only the first one is printed
};

TextLine& AddSigned(TextLine& line, int32_t value) {
  if (value < 0) line.Add("-");
  return line.Add(static_cast<uint32_t>(value < 0 ? -value : value));
}

// Checks each op's output against the host's CRC while the interpreter
// runs, so a mismatch names the first op that went wrong.
struct OpCheck {
  const Model* model;
  const Interpreter* interpreter;
  const uint32_t* expected;  // this run's CRCs, one per op
  int32_t first_bad_op;      // -1 while every op matched
};

void CheckOpCrc(void* context, uint16_t op) {
  OpCheck& check = *static_cast<OpCheck*>(context);
  if (check.first_bad_op >= 0) return;
  const uint16_t tensor = check.model->op(op).output;
  const uint32_t crc = Crc32(
      reinterpret_cast<const uint8_t*>(check.interpreter->Activation(tensor)),
      ElementCount(check.model->tensor(tensor)));
  if (crc != check.expected[op]) check.first_bad_op = op;
}

// The offset (over all outputs, as in the fixture) of the first output byte
// that differs from `expected`, or -1.
int32_t FirstOutputMismatch(const Model& model, const Interpreter& interpreter,
                            const int8_t* expected) {
  uint32_t offset = 0;
  for (uint16_t i = 0; i < model.output_count(); ++i) {
    const int8_t* output = interpreter.Output(i);
    for (uint32_t b = 0; b < interpreter.OutputBytes(i); ++b, ++offset) {
      if (output[b] != expected[offset]) return static_cast<int32_t>(offset);
    }
  }
  return -1;
}

// The byte at `offset` over all outputs. REQUIRES: offset is in range.
int8_t OutputByte(const Interpreter& interpreter, uint32_t offset) {
  uint16_t i = 0;
  while (offset >= interpreter.OutputBytes(i)) {
    offset -= interpreter.OutputBytes(i++);
  }
  return interpreter.Output(i)[offset];
}

// Starts a message about `fixture` run with `kernels`.
TextLine& Begin(TextLine& line, const BoardFixtureModel& fixture,
                const KernelSet& kernels) {
  return line.Add("model '")
      .Add(fixture.name)
      .Add("', kernels '")
      .Add(kernels.name)
      .Add("': ");
}

// Runs every input of `fixture` through `model` with `kernels` and counts
// the runs whose outputs differ from the expected bytes.
void RunWith(const BoardFixtureModel& fixture, const Model& model,
             const KernelSet& kernels, Tally* tally) {
  tally->runs += fixture.runs;
  TextLine line;
  memset(g_model_arena, kArenaFill, sizeof(g_model_arena));
  Interpreter interpreter(model, kernels);
  const Status init = interpreter.Init(g_model_arena, sizeof(g_model_arena));
  if (init != Status::kOk) {
    Begin(line, fixture, kernels).Add("init ").Add(StatusName(init)).Print();
    tally->mismatches += fixture.runs;
    return;
  }
  uint32_t input_bytes = 0;
  for (uint16_t i = 0; i < model.input_count(); ++i) {
    input_bytes += interpreter.InputBytes(i);
  }
  uint32_t output_bytes = 0;
  for (uint16_t i = 0; i < model.output_count(); ++i) {
    output_bytes += interpreter.OutputBytes(i);
  }
  if (input_bytes != fixture.input_bytes ||
      output_bytes != fixture.output_bytes ||
      model.op_count() != fixture.op_count) {
    Begin(line, fixture, kernels)
        .Add("model has ")
        .Add(input_bytes)
        .Add(" B in, ")
        .Add(output_bytes)
        .Add(" B out, ")
        .Add(model.op_count())
        .Add(" ops; the fixture says ")
        .Add(fixture.input_bytes)
        .Add(", ")
        .Add(fixture.output_bytes)
        .Add(", ")
        .Add(fixture.op_count)
        .Print();
    tally->mismatches += fixture.runs;
    return;
  }

  OpCheck check{&model, &interpreter, nullptr, -1};
  interpreter.SetObserver(CheckOpCrc, &check);
  for (uint32_t run = 0; run < fixture.runs; ++run) {
    const int8_t* input = fixture.inputs + run * fixture.input_bytes;
    for (uint16_t i = 0; i < model.input_count(); ++i) {
      memcpy(interpreter.Input(i), input, interpreter.InputBytes(i));
      input += interpreter.InputBytes(i);
    }
    check.expected = fixture.op_crcs + run * fixture.op_count;
    check.first_bad_op = -1;
    const Status invoke = interpreter.Invoke();
    if (invoke != Status::kOk) {
      Begin(line, fixture, kernels)
          .Add("input ")
          .Add(run)
          .Add(": invoke ")
          .Add(StatusName(invoke))
          .Print();
      ++tally->mismatches;
      continue;
    }
    const int8_t* expected = fixture.expected + run * fixture.output_bytes;
    const int32_t bad_byte = FirstOutputMismatch(model, interpreter, expected);
    if (bad_byte < 0 && check.first_bad_op < 0) continue;
    ++tally->mismatches;
    if (tally->mismatch_reported) continue;
    tally->mismatch_reported = true;
    Begin(line, fixture, kernels).Add("input ").Add(run);
    if (check.first_bad_op >= 0) {
      line.Add(": first differing op ")
          .Add(static_cast<uint32_t>(check.first_bad_op));
    }
    if (bad_byte >= 0) {
      line.Add(": output byte ")
          .Add(static_cast<uint32_t>(bad_byte))
          .Add(" is ");
      AddSigned(line, OutputByte(interpreter, static_cast<uint32_t>(bad_byte)))
          .Add(", host gave ");
      AddSigned(line, expected[bad_byte]);
    }
    line.Print();
  }
}

// Loads `fixture`'s blob (checksum included) and runs it with both kernel
// sets.
void RunModel(const BoardFixtureModel& fixture, Tally* tally) {
  Model model;
  Diagnostic diagnostic;
  const Status load = Model::Load(fixture.blob, fixture.blob_bytes,
                                  LoadOptions{}, &model, &diagnostic);
  TextLine line;
  if (load != Status::kOk) {
    line.Add("model '")
        .Add(fixture.name)
        .Add("': load ")
        .Add(StatusName(load))
        .Add(" (")
        .Add(diagnostic.scope)
        .Add(" ")
        .Add(diagnostic.what)
        .Add(")")
        .Print();
    tally->runs += 2 * fixture.runs;
    tally->mismatches += 2 * fixture.runs;
    return;
  }
  // Interpreter::Init would fail too, but without saying how much is needed.
  if (model.arena_bytes() > kModelArenaBytes) {
    line.Add("model '")
        .Add(fixture.name)
        .Add("' needs a ")
        .Add(model.arena_bytes())
        .Add(" B arena; kModelArenaBytes is ")
        .Add(kModelArenaBytes)
        .Print();
    tally->runs += 2 * fixture.runs;
    tally->mismatches += 2 * fixture.runs;
    return;
  }
  RunWith(fixture, model, ReferenceKernels(), tally);
  RunWith(fixture, model, OptimizedKernels(), tally);
}

}  // namespace

bool RunBoardModels(const char* cpu_name) {
  Tally tally;
  for (uint32_t m = 0; m < kBoardFixture.model_count; ++m) {
    RunModel(kBoardFixture.models[m], &tally);
  }
  TextLine line;
  line.Add("models ")
      .Add(cpu_name)
      .Add(": ")
      .Add(kBoardFixture.model_count)
      .Add(" models, ")
      .Add(tally.runs)
      .Add(" runs, ")
      .Add(tally.mismatches)
      .Add(" mismatches");
  if (kBoardFixture.model_count == 0) {
    line.Add(" (built without MCUNAS_BOARD_FIXTURE)");
  }
  line.Print();
  return kBoardFixture.model_count > 0 && tally.mismatches == 0;
}

}  // namespace mcunas::engine::port
