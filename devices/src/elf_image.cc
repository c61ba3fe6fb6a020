#include "elf_image.h"

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mcunas::devices {
namespace {

// Reads a T at `offset` if it lies inside `bytes`.
template <typename T>
bool ReadAt(const std::vector<uint8_t>& bytes, uint64_t offset, T* out) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(out, bytes.data() + offset, sizeof(T));
  return true;
}

bool InRange(const std::vector<uint8_t>& bytes, uint64_t offset,
             uint64_t size) {
  return offset <= bytes.size() && size <= bytes.size() - offset;
}

}  // namespace

absl::StatusOr<ElfImage> ElfImage::Read(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
  return Parse(bytes, path);
}

absl::StatusOr<ElfImage> ElfImage::Parse(const std::vector<uint8_t>& bytes,
                                         const std::string& name) {
  const auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": not a usable firmware ELF: ", what));
  };
  Elf32_Ehdr eh;
  if (!ReadAt(bytes, 0, &eh)) return bad("shorter than an ELF header");
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return bad("bad magic");
  if (eh.e_ident[EI_CLASS] != ELFCLASS32 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    return bad("not 32-bit little-endian");
  }
  if (eh.e_machine != EM_ARM) return bad("not an ARM image");
  if (eh.e_type != ET_EXEC) return bad("not an executable");

  ElfImage image;
  image.name_ = name;
  image.entry_ = eh.e_entry & ~1u;
  for (uint32_t i = 0; i < eh.e_phnum; ++i) {
    Elf32_Phdr ph;
    if (!ReadAt(bytes, eh.e_phoff + uint64_t{i} * eh.e_phentsize, &ph)) {
      return bad("program header out of the file");
    }
    if (ph.p_type != PT_LOAD || ph.p_filesz == 0) continue;
    if (!InRange(bytes, ph.p_offset, ph.p_filesz)) {
      return bad(absl::StrFormat("segment %d out of the file", i));
    }
    ElfSegment segment;
    segment.address = ph.p_paddr;
    segment.data.assign(bytes.begin() + ph.p_offset,
                        bytes.begin() + ph.p_offset + ph.p_filesz);
    image.segments_.push_back(std::move(segment));
  }
  if (image.segments_.empty()) return bad("nothing to load");

  // Symbols: the SHT_SYMTAB section and its string table.
  for (uint32_t i = 0; i < eh.e_shnum; ++i) {
    Elf32_Shdr sh;
    if (!ReadAt(bytes, eh.e_shoff + uint64_t{i} * eh.e_shentsize, &sh)) {
      return bad("section header out of the file");
    }
    if (sh.sh_type != SHT_SYMTAB || sh.sh_entsize != sizeof(Elf32_Sym)) {
      continue;
    }
    Elf32_Shdr strtab;
    if (!ReadAt(bytes, eh.e_shoff + uint64_t{sh.sh_link} * eh.e_shentsize,
                &strtab) ||
        !InRange(bytes, strtab.sh_offset, strtab.sh_size) ||
        !InRange(bytes, sh.sh_offset, sh.sh_size)) {
      return bad("symbol table out of the file");
    }
    for (uint64_t at = sh.sh_offset; at + sizeof(Elf32_Sym) <=
                                         uint64_t{sh.sh_offset} + sh.sh_size;
         at += sizeof(Elf32_Sym)) {
      Elf32_Sym sym;
      ReadAt(bytes, at, &sym);
      if (sym.st_name == 0 || sym.st_name >= strtab.sh_size) continue;
      const char* text =
          reinterpret_cast<const char*>(bytes.data() + strtab.sh_offset) +
          sym.st_name;
      const size_t max = strtab.sh_size - sym.st_name;
      const std::string symbol(text, strnlen(text, max));
      uint32_t value = sym.st_value;
      if (ELF32_ST_TYPE(sym.st_info) == STT_FUNC) value &= ~1u;
      image.symbols_.emplace(symbol, value);
    }
  }
  return image;
}

absl::StatusOr<uint32_t> ElfImage::Symbol(absl::string_view name) const {
  auto it = symbols_.find(name);
  if (it == symbols_.end()) {
    return absl::NotFoundError(
        absl::StrCat(name_, " has no symbol '", name, "'"));
  }
  return it->second;
}

absl::StatusOr<uint32_t> ElfImage::Word(uint32_t address) const {
  for (const ElfSegment& s : segments_) {
    if (address >= s.address && address - s.address + 4 <= s.data.size()) {
      uint32_t word;
      std::memcpy(&word, s.data.data() + (address - s.address), 4);
      return word;
    }
  }
  return absl::NotFoundError(absl::StrFormat(
      "%s loads nothing at 0x%08x", name_, address));
}

}  // namespace mcunas::devices
