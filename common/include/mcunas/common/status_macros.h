// Status propagation macros for absl::Status / absl::StatusOr (Debian's
// abseil lacks them). Host code only.
#ifndef MCUNAS_COMMON_STATUS_MACROS_H_
#define MCUNAS_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the current function when `expr` (an absl::Status) is not OK.
#define MCUNAS_RETURN_IF_ERROR(expr)                      \
  do {                                                    \
    ::absl::Status mcunas_status_ = (expr);               \
    if (!mcunas_status_.ok()) return mcunas_status_;      \
  } while (0)

#define MCUNAS_STATUS_CONCAT_INNER_(a, b) a##b
#define MCUNAS_STATUS_CONCAT_(a, b) MCUNAS_STATUS_CONCAT_INNER_(a, b)

// `lhs` = the value of `rexpr` (an absl::StatusOr<T>), or returns its status.
#define MCUNAS_ASSIGN_OR_RETURN(lhs, rexpr) \
  MCUNAS_ASSIGN_OR_RETURN_IMPL_(            \
      MCUNAS_STATUS_CONCAT_(mcunas_statusor_, __LINE__), lhs, rexpr)

#define MCUNAS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return statusor.status();             \
  lhs = std::move(*statusor)

#endif  // MCUNAS_COMMON_STATUS_MACROS_H_
