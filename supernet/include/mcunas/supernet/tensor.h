// The float tensor of supernet training: a shape and a contiguous float
// buffer, row-major with the last dimension fastest.
//
// Activations are NHWC {N, H, W, C} (or {N, C} after pooling). NHWC because
// it makes every pointwise convolution one GEMM over N*H*W rows with no
// transposes, lets batch norm, ReLU6 and depthwise convolution vectorise over
// contiguous channels, and is the engine's layout, so export needs no
// reordering. Weights use the engine's layouts (float_graph.h): conv OHWI,
// depthwise [kh][kw][C], fully connected [out][in].
//
// Plain value type; thread-compatible.
#ifndef MCUNAS_SUPERNET_TENSOR_H_
#define MCUNAS_SUPERNET_TENSOR_H_

#include <cstdint>
#include <string>
#include <vector>

namespace mcunas::supernet {

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::vector<int32_t> shape) { Resize(std::move(shape)); }

  // Sets the shape; keeps the buffer's capacity, so resizing to a smaller or
  // equal size in a training loop does not allocate. New elements are zero;
  // kept elements keep their values.
  void Resize(std::vector<int32_t> shape);
  void Fill(float value);

  const std::vector<int32_t>& shape() const { return shape_; }
  int32_t rank() const { return static_cast<int32_t>(shape_.size()); }
  int32_t dim(int i) const { return shape_[i]; }
  int64_t size() const { return static_cast<int64_t>(data_.size()); }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  std::vector<float>& values() { return data_; }
  const std::vector<float>& values() const { return data_; }

  // "[2, 28, 28, 16]"
  std::string ShapeString() const;

 private:
  std::vector<int32_t> shape_;
  std::vector<float> data_;
};

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_TENSOR_H_
