// Checkpoints of an elastic supernet, in the checkpoint.h file format
// (version 2): `config` is the largest subnet's, `parameters` and `velocity`
// follow ElasticSupernet::Parameters (shared weights, then the kernel
// transforms), `bn_*` its batch norms; the metadata holds the space (as the
// JSON of searchspace's format, at the supernet's one R and W), the phase
// and the schedule; `extra` the distillation teacher's weights and
// statistics ("teacher/" names), when there is one.
//
// Stateless functions; not thread-safe for the same objects.
#ifndef MCUNAS_SUPERNET_SUPERNET_CHECKPOINT_H_
#define MCUNAS_SUPERNET_SUPERNET_CHECKPOINT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mcunas/searchspace/search_space.h"
#include "mcunas/supernet/checkpoint.h"
#include "mcunas/supernet/elastic_supernet.h"
#include "mcunas/supernet/mbnet.h"
#include "mcunas/supernet/optimizer.h"

namespace mcunas::supernet {

// Where a supernet run stands: `state` as for a static run with epoch and
// step counted within the phase; `phase` the 0-based phase of that
// position; `phases` the schedule (PhasesString), `method` how it is
// trained (MethodString; checkpoints from before there was a choice read as
// kLegacyMethod).
struct SupernetPosition {
  TrainState state;
  int32_t phase = 0;
  std::string phases;
  std::string method;
  float distill_weight = 0.0f;
};

// The only method there was before checkpoints recorded it.
inline constexpr char kLegacyMethod[] =
    "lr per-phase, teacher frozen, loss mean";

// A space definition as JSON that searchspace::ParseSpaceJson reads back.
std::string SpaceDefJson(const searchspace::SpaceDef& def);

// `teacher` may be null; `sgd` may be null (no velocity saved).
Checkpoint MakeSupernetCheckpoint(ElasticSupernet& net, const Sgd* sgd,
                                  const SupernetPosition& position,
                                  Mbnet* teacher);

bool IsSupernetCheckpoint(const Checkpoint& ckpt);
absl::StatusOr<SupernetPosition> SupernetPositionOf(const Checkpoint& ckpt);

// The supernet a checkpoint describes, with its weights (not the velocity).
// InvalidArgument for a static net's checkpoint.
absl::StatusOr<std::unique_ptr<ElasticSupernet>> SupernetFromCheckpoint(
    const Checkpoint& ckpt, const std::string& source);

// Copies weights, statistics and (when `sgd`) velocity into `net`; fails
// naming the first tensor that does not match (another space).
absl::Status RestoreSupernet(const Checkpoint& ckpt, ElasticSupernet* net,
                             Sgd* sgd);

// The teacher saved in the checkpoint, or null when it has none.
absl::StatusOr<std::unique_ptr<Mbnet>> TeacherFromCheckpoint(
    const Checkpoint& ckpt);

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_SUPERNET_CHECKPOINT_H_
