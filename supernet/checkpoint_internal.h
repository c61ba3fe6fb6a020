// Private. Saving a model's parameters, optimizer velocity and batch-norm
// statistics into a Checkpoint and restoring them from one, shared by the
// static Mbnet (checkpoint.cc) and the ElasticSupernet
// (supernet_checkpoint.cc). Not thread-safe.
#ifndef MCUNAS_SUPERNET_CHECKPOINT_INTERNAL_H_
#define MCUNAS_SUPERNET_CHECKPOINT_INTERNAL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mcunas/supernet/checkpoint.h"
#include "mcunas/supernet/mbnet.h"
#include "mcunas/supernet/optimizer.h"

namespace mcunas::supernet::internal {

// Appends `params` (with their velocity in `sgd`, if not null, as far as it
// has any) and `stats` to ckpt's lists.
void SaveState(const std::vector<Parameter*>& params,
               const std::vector<RunningStats*>& stats, const Sgd* sgd,
               Checkpoint* ckpt);

// OK if saved[i] exists, is named `name` and holds `size` values; otherwise
// InvalidArgument naming `model` ("net", "supernet") in its message.
absl::Status MatchSaved(const std::vector<NamedValues>& saved, size_t i,
                        const std::string& name, size_t size,
                        const std::string& model);

// Copies ckpt's parameters and batch-norm statistics into `params` and
// `stats` (in that order, matched by name and size), and, when `sgd` is not
// null, its velocity into `sgd`. A velocity the checkpoint holds must match
// `params` too. `model` names the model in error messages. On error nothing
// is changed.
absl::Status RestoreState(const Checkpoint& ckpt,
                          const std::vector<Parameter*>& params,
                          const std::vector<RunningStats*>& stats,
                          const std::string& model, Sgd* sgd);

}  // namespace mcunas::supernet::internal

#endif  // MCUNAS_SUPERNET_CHECKPOINT_INTERNAL_H_
