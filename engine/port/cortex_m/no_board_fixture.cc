// The fixture of a firmware configured without MCUNAS_BOARD_FIXTURE: no
// models, so RunBoardModels reports that it checked nothing and fails.
#include "board_fixture.h"

namespace mcunas::engine::port {

const BoardFixture kBoardFixture = {nullptr, 0};

}  // namespace mcunas::engine::port
