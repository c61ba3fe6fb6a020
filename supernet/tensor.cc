#include "mcunas/supernet/tensor.h"

#include <algorithm>

#include "absl/strings/str_join.h"

namespace mcunas::supernet {

void Tensor::Resize(std::vector<int32_t> shape) {
  int64_t elements = 1;
  for (int32_t d : shape) elements *= d;
  shape_ = std::move(shape);
  data_.resize(static_cast<size_t>(elements));
}

void Tensor::Fill(float value) { std::fill(data_.begin(), data_.end(), value); }

std::string Tensor::ShapeString() const {
  return "[" + absl::StrJoin(shape_, ", ") + "]";
}

}  // namespace mcunas::supernet
