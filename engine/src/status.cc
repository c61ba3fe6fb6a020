#include "mcunas/engine/status.h"

namespace mcunas::engine {

const char* StatusName(Status status) {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kTruncated: return "truncated";
    case Status::kBadMagic: return "bad magic";
    case Status::kBadVersion: return "unsupported version";
    case Status::kBadChecksum: return "checksum mismatch";
    case Status::kBadAlignment: return "bad alignment";
    case Status::kBadOffset: return "bad offset";
    case Status::kBadEnum: return "bad enum value";
    case Status::kBadShape: return "bad shape";
    case Status::kBadTensorRef: return "bad tensor reference";
    case Status::kBadQuantization: return "bad quantization";
    case Status::kArenaTooSmall: return "arena too small";
    case Status::kUnsupported: return "unsupported";
    case Status::kInvalidArgument: return "invalid argument";
    case Status::kPlanFailed: return "memory plan failed";
  }
  return "unknown status";
}

}  // namespace mcunas::engine
