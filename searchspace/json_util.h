// Private to searchspace. nlohmann/json without exceptions: parsing through
// the SAX interface with the error captured, and typed reads that return a
// Status instead of throwing on a missing field or a wrong type. Stateless;
// thread-safe.
#ifndef MCUNAS_SEARCHSPACE_JSON_UTIL_H_
#define MCUNAS_SEARCHSPACE_JSON_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace mcunas::searchspace {

using Json = nlohmann::json;

// Fails with InvalidArgument "<source>: not valid JSON: <parser message>".
absl::StatusOr<Json> ParseJson(absl::string_view text,
                               absl::string_view source);

// Reads object[key]; errors name the key.
absl::StatusOr<int64_t> ReadInt(const Json& object, const char* key);
absl::StatusOr<double> ReadDouble(const Json& object, const char* key);
absl::StatusOr<std::string> ReadString(const Json& object, const char* key);
absl::StatusOr<bool> ReadBool(const Json& object, const char* key);
// object[key] must be an array (may be empty).
absl::StatusOr<const Json*> ReadArray(const Json& object, const char* key);
absl::StatusOr<std::vector<int32_t>> ReadInts(const Json& array,
                                              const char* what);
absl::StatusOr<std::vector<double>> ReadDoubles(const Json& array,
                                                const char* what);

}  // namespace mcunas::searchspace

#endif  // MCUNAS_SEARCHSPACE_JSON_UTIL_H_
