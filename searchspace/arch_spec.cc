#include "mcunas/searchspace/arch_spec.h"

#include <cctype>

#include "absl/strings/str_cat.h"

namespace mcunas::searchspace {
namespace {

// A cursor over the text being parsed; errors quote the whole text.
class Cursor {
 public:
  explicit Cursor(absl::string_view text) : text_(text) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  bool Consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  // A decimal integer of up to 6 digits.
  bool Int(int32_t* value) {
    const size_t start = pos_;
    int64_t v = 0;
    while (!done() && std::isdigit(static_cast<unsigned char>(peek())) &&
           pos_ - start < 6) {
      v = v * 10 + (text_[pos_++] - '0');
    }
    if (pos_ == start ||
        (!done() && std::isdigit(static_cast<unsigned char>(peek())))) {
      return false;
    }
    *value = static_cast<int32_t>(v);
    return true;
  }
  absl::Status Error(absl::string_view where, absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("arch \"", text_, "\": ", where, where.empty() ? "" : ": ",
                     what, " at offset ", pos_));
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
};

// A width "0.5" / "1" / "0.125" as thousandths.
bool ParseWidth(Cursor* c, int32_t* milli) {
  int32_t whole = 0;
  if (!c->Int(&whole) || whole > 1000) return false;
  int32_t frac = 0;
  if (c->Consume('.')) {
    int digits = 0;
    while (std::isdigit(static_cast<unsigned char>(c->peek()))) {
      if (digits == 3) return false;  // finer than thousandths
      frac = frac * 10 + (c->peek() - '0');
      c->Consume(c->peek());
      ++digits;
    }
    if (digits == 0) return false;
    for (; digits < 3; ++digits) frac *= 10;
  }
  *milli = whole * 1000 + frac;
  return *milli > 0;
}

}  // namespace

std::string FormatWidth(int32_t width_milli) {
  std::string frac = absl::StrCat(1000 + width_milli % 1000).substr(1);
  while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
  return absl::StrCat(width_milli / 1000, ".", frac);
}

std::string CanonicalString(const ArchSpec& arch) {
  std::string s = absl::StrCat("r", arch.resolution, "-w",
                               FormatWidth(arch.width_milli), ":");
  for (size_t st = 0; st < arch.stages.size(); ++st) {
    if (st > 0) s += '|';
    for (size_t b = 0; b < arch.stages[st].size(); ++b) {
      if (b > 0) s += ',';
      absl::StrAppend(&s, "k", arch.stages[st][b].kernel, "e",
                      arch.stages[st][b].expand);
    }
  }
  return s;
}

uint64_t Fnv1a64(absl::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

namespace {

// FNV-1a 64 fed the canonical string's bytes without building it: the
// evaluator and the strategies hash every candidate they consider.
class Fnv1a {
 public:
  void Byte(char c) {
    h_ ^= static_cast<unsigned char>(c);
    h_ *= 0x100000001b3ull;
  }
  void Int(int32_t v) {
    char digits[12];
    int n = 0;
    uint32_t u = static_cast<uint32_t>(v);
    if (v < 0) {
      Byte('-');
      u = 0u - u;
    }
    do {
      digits[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u > 0);
    while (n > 0) Byte(digits[--n]);
  }
  void Text(absl::string_view s) {
    for (char c : s) Byte(c);
  }
  // The bytes of FormatWidth(milli), without building the string.
  void Width(int32_t milli) {
    if (milli <= 0) {
      Text(FormatWidth(milli));
      return;
    }
    Int(milli / 1000);
    Byte('.');
    const int32_t frac = milli % 1000;
    const char digits[3] = {static_cast<char>('0' + frac / 100),
                            static_cast<char>('0' + frac / 10 % 10),
                            static_cast<char>('0' + frac % 10)};
    int n = 3;
    while (n > 1 && digits[n - 1] == '0') --n;
    for (int i = 0; i < n; ++i) Byte(digits[i]);
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

}  // namespace

uint64_t ArchHash(const ArchSpec& arch) {
  Fnv1a h;
  h.Byte('r');
  h.Int(arch.resolution);
  h.Text("-w");
  h.Width(arch.width_milli);
  h.Byte(':');
  for (size_t st = 0; st < arch.stages.size(); ++st) {
    if (st > 0) h.Byte('|');
    for (size_t b = 0; b < arch.stages[st].size(); ++b) {
      if (b > 0) h.Byte(',');
      h.Byte('k');
      h.Int(arch.stages[st][b].kernel);
      h.Byte('e');
      h.Int(arch.stages[st][b].expand);
    }
  }
  return h.value();
}

absl::StatusOr<ArchSpec> ParseArchSpec(absl::string_view text) {
  Cursor c(text);
  ArchSpec arch;
  if (!c.Consume('r') || !c.Int(&arch.resolution) || arch.resolution < 1) {
    return c.Error("", "expected \"r<resolution>\" first");
  }
  if (!c.Consume('-') || !c.Consume('w')) {
    return c.Error("", "expected \"-w<width>\" after the resolution");
  }
  if (!ParseWidth(&c, &arch.width_milli)) {
    return c.Error("", "expected a positive width with at most 3 decimals");
  }
  if (!c.Consume(':')) return c.Error("", "expected ':' after the width");
  do {
    std::vector<BlockSpec>& stage = arch.stages.emplace_back();
    do {
      const std::string where = absl::StrCat("stage ", arch.stages.size() - 1,
                                             " block ", stage.size());
      BlockSpec block;
      if (!c.Consume('k')) return c.Error(where, "expected 'k<kernel>'");
      if (!c.Int(&block.kernel) || block.kernel < 1) {
        return c.Error(where, "expected a positive kernel size");
      }
      if (!c.Consume('e'))
        return c.Error(where, "expected 'e' after the kernel");
      if (!c.Int(&block.expand) || block.expand < 1) {
        return c.Error(where, "expected a positive expand ratio");
      }
      stage.push_back(block);
    } while (c.Consume(','));
  } while (c.Consume('|'));
  if (!c.done()) {
    return c.Error("", absl::StrCat("unexpected '", std::string(1, c.peek()),
                                    "' (blocks are separated by ',' and "
                                    "stages by '|')"));
  }
  return arch;
}

}  // namespace mcunas::searchspace
