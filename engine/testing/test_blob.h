// Test-only. A model blob copied into 16-byte aligned storage, with typed
// access to its header, tables and op params, so that loader tests can
// corrupt one field and see what Model::Load says. Owns its bytes; not
// thread-safe.
#ifndef MCUNAS_ENGINE_TESTING_TEST_BLOB_H_
#define MCUNAS_ENGINE_TESTING_TEST_BLOB_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"
#include "mcunas/engine/model.h"

namespace mcunas::engine::testing {

class Blob {
 public:
  explicit Blob(const std::vector<uint8_t>& bytes)
      : storage_(bytes.size() + 32), size_(bytes.size()) {
    std::memcpy(data(), bytes.data(), bytes.size());
  }
  uint8_t* data() {
    const uintptr_t p = reinterpret_cast<uintptr_t>(storage_.data());
    return storage_.data() + ((16 - p % 16) % 16);
  }
  uint32_t size() const { return static_cast<uint32_t>(size_); }
  ModelHeader& header() { return *reinterpret_cast<ModelHeader*>(data()); }
  TensorRecord& tensor(int i) {
    return reinterpret_cast<TensorRecord*>(data() +
                                           header().tensor_table_offset)[i];
  }
  OpRecord& op(int i) {
    return reinterpret_cast<OpRecord*>(data() + header().op_table_offset)[i];
  }
  // Op i's params record, as T.
  template <typename T>
  T& params(int i) {
    return *reinterpret_cast<T*>(data() + header().data_offset +
                                 op(i).params_offset);
  }
  // The first op of `type`, or -1.
  int Find(OpType type) {
    for (int i = 0; i < header().op_count; ++i) {
      if (op(i).type == static_cast<uint8_t>(type)) return i;
    }
    return -1;
  }
  // Recomputes the CRC so a corruption reaches the structural checks.
  // Corruption may have changed total_bytes; never read past the blob.
  void Restamp() {
    const uint32_t end = std::min<uint32_t>(header().total_bytes, size());
    if (end < sizeof(ModelHeader)) return;
    header().crc32 = Crc32(data() + sizeof(ModelHeader),
                           end - sizeof(ModelHeader));
  }
  // Loads the blob as it is (no Restamp) and returns what the loader said.
  Diagnostic Load() {
    Model model;
    Diagnostic diagnostic;
    const Status s =
        Model::Load(data(), size(), LoadOptions{}, &model, &diagnostic);
    EXPECT_EQ(s, diagnostic.status);
    return diagnostic;
  }

 private:
  std::vector<uint8_t> storage_;
  size_t size_;
};

}  // namespace mcunas::engine::testing

#endif  // MCUNAS_ENGINE_TESTING_TEST_BLOB_H_
