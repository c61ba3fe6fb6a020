// Private. The supernet component's spdlog logger ("supernet"), created on
// first use on stderr. Thread-safe.
#ifndef MCUNAS_SUPERNET_LOGGING_H_
#define MCUNAS_SUPERNET_LOGGING_H_

#include <memory>

#include "spdlog/spdlog.h"

namespace mcunas::supernet::internal {

std::shared_ptr<spdlog::logger> Logger();

}  // namespace mcunas::supernet::internal

#endif  // MCUNAS_SUPERNET_LOGGING_H_
