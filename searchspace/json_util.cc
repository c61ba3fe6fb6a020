#include "json_util.h"

#include "absl/strings/str_cat.h"

namespace mcunas::searchspace {
namespace {

// The DOM builder with the parse error captured instead of thrown. sax_parse
// is a template over the handler type, so this parse_error is the one
// called.
class DomParser : public nlohmann::detail::json_sax_dom_parser<Json> {
 public:
  explicit DomParser(Json& result)
      : json_sax_dom_parser(result, /*allow_exceptions_=*/false) {}
  template <class Exception>
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/,
                   const Exception& ex) {
    error_ = ex.what();
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

absl::StatusOr<const Json*> Find(const Json& object, const char* key) {
  if (!object.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an object holding '", key, "'"));
  }
  const auto it = object.find(key);
  if (it == object.end()) {
    return absl::InvalidArgumentError(absl::StrCat("missing '", key, "'"));
  }
  return &*it;
}

absl::Status WrongType(const char* key, const char* want, const Json& got) {
  return absl::InvalidArgumentError(
      absl::StrCat("'", key, "' must be ", want, ", got ", got.dump()));
}

}  // namespace

absl::StatusOr<Json> ParseJson(absl::string_view text,
                               absl::string_view source) {
  Json root;
  DomParser parser(root);
  const std::string copy(text);
  if (!Json::sax_parse(copy, &parser) || !parser.error().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not valid JSON: ", parser.error()));
  }
  return root;
}

absl::StatusOr<int64_t> ReadInt(const Json& object, const char* key) {
  absl::StatusOr<const Json*> v = Find(object, key);
  if (!v.ok()) return v.status();
  if (!(*v)->is_number_integer()) return WrongType(key, "an integer", **v);
  return (*v)->get<int64_t>();
}

absl::StatusOr<double> ReadDouble(const Json& object, const char* key) {
  absl::StatusOr<const Json*> v = Find(object, key);
  if (!v.ok()) return v.status();
  if (!(*v)->is_number()) return WrongType(key, "a number", **v);
  return (*v)->get<double>();
}

absl::StatusOr<std::string> ReadString(const Json& object, const char* key) {
  absl::StatusOr<const Json*> v = Find(object, key);
  if (!v.ok()) return v.status();
  if (!(*v)->is_string()) return WrongType(key, "a string", **v);
  return (*v)->get<std::string>();
}

absl::StatusOr<bool> ReadBool(const Json& object, const char* key) {
  absl::StatusOr<const Json*> v = Find(object, key);
  if (!v.ok()) return v.status();
  if (!(*v)->is_boolean()) return WrongType(key, "true or false", **v);
  return (*v)->get<bool>();
}

absl::StatusOr<const Json*> ReadArray(const Json& object, const char* key) {
  absl::StatusOr<const Json*> v = Find(object, key);
  if (!v.ok()) return v.status();
  if (!(*v)->is_array()) return WrongType(key, "a list", **v);
  return *v;
}

absl::StatusOr<std::vector<int32_t>> ReadInts(const Json& array,
                                              const char* what) {
  if (!array.is_array()) return WrongType(what, "a list", array);
  std::vector<int32_t> out;
  for (const Json& v : array) {
    if (!v.is_number_integer() || v.get<int64_t>() < INT32_MIN ||
        v.get<int64_t>() > INT32_MAX) {
      return WrongType(what, "a list of integers", array);
    }
    out.push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  return out;
}

absl::StatusOr<std::vector<double>> ReadDoubles(const Json& array,
                                                const char* what) {
  if (!array.is_array()) return WrongType(what, "a list", array);
  std::vector<double> out;
  for (const Json& v : array) {
    if (!v.is_number()) return WrongType(what, "a list of numbers", array);
    out.push_back(v.get<double>());
  }
  return out;
}

}  // namespace mcunas::searchspace
