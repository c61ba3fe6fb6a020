// A 32-bit little-endian ELF executable (the runner firmware) read into
// memory: what to load where (PT_LOAD segments at their physical, i.e. load,
// addresses) and the symbol table. Private to devices/. Immutable after
// Read; thread-safe to share.
#ifndef MCUNAS_DEVICES_SRC_ELF_IMAGE_H_
#define MCUNAS_DEVICES_SRC_ELF_IMAGE_H_

#include <cstdint>
#include <map>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace mcunas::devices {

struct ElfSegment {
  uint32_t address = 0;       // physical (load) address
  std::vector<uint8_t> data;  // the file bytes; the rest of memsz is not
                              // written (NOLOAD or .bss, cleared at boot)
};

class ElfImage {
 public:
  // Reads an ARM (EM_ARM) ELF32 executable. Errors name the path and what
  // was wrong.
  static absl::StatusOr<ElfImage> Read(const std::string& path);
  static absl::StatusOr<ElfImage> Parse(const std::vector<uint8_t>& bytes,
                                        const std::string& name);

  uint32_t entry() const { return entry_; }
  // Segments with file bytes, in file order.
  const std::vector<ElfSegment>& segments() const { return segments_; }
  // The value (address; Thumb bit cleared for functions) of a symbol.
  absl::StatusOr<uint32_t> Symbol(absl::string_view name) const;
  // The 32-bit word the image loads at `address` (e.g. the initial stack
  // pointer in the vector table); NotFound when no segment covers it.
  absl::StatusOr<uint32_t> Word(uint32_t address) const;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  uint32_t entry_ = 0;
  std::vector<ElfSegment> segments_;
  std::map<std::string, uint32_t, std::less<>> symbols_;
};

}  // namespace mcunas::devices

#endif  // MCUNAS_DEVICES_SRC_ELF_IMAGE_H_
