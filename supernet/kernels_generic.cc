// The kernels for any x86-64 (or other) CPU; see kernels_impl.inc.
#define MCUNAS_KERNEL_TABLE kGenericTable
#define MCUNAS_KERNEL_TABLE_NAME "generic"
#include <cstdlib>
#include <string_view>

#include "kernels_impl.inc"

namespace mcunas::supernet::internal {

const KernelTable& GenericKernels() { return kGenericTable; }

const KernelTable& Kernels() {
  static const KernelTable* const table = [] {
    const KernelTable* avx2 = Avx2Kernels();
    // MCUNAS_SUPERNET_KERNELS=generic forces the baseline (for comparisons).
    const char* forced = std::getenv("MCUNAS_SUPERNET_KERNELS");
    if (forced != nullptr && std::string_view(forced) == "generic") {
      return &kGenericTable;
    }
    return avx2 != nullptr ? avx2 : &kGenericTable;
  }();
  return *table;
}

}  // namespace mcunas::supernet::internal
