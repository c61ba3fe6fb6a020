#include "lifetimes.h"

#include <algorithm>

namespace mcunas::engine {

std::vector<Lifetime> ArenaLifetimes(const Model& model) {
  const int32_t n_ops = model.op_count();
  std::vector<Lifetime> lifetimes(model.tensor_count());
  const auto touch = [&](uint16_t t, int32_t op) {
    if (t == kNoTensor ||
        model.tensor(t).storage != static_cast<uint8_t>(TensorStorage::kArena)) {
      return;
    }
    Lifetime& l = lifetimes[t];
    l.first = l.first < 0 ? op : std::min(l.first, op);
    l.last = std::max(l.last, op);
  };
  for (uint16_t i = 0; i < model.input_count(); ++i) touch(model.input(i), 0);
  for (int32_t i = 0; i < n_ops; ++i) {
    const OpRecord& op = model.op(static_cast<uint16_t>(i));
    for (uint16_t t : op.inputs) touch(t, i);
    touch(op.output, i);
  }
  for (uint16_t i = 0; i < model.output_count(); ++i) {
    touch(model.output(i), n_ops - 1);
  }
  return lifetimes;
}

}  // namespace mcunas::engine
