# Helpers shared by every folder's CMakeLists.txt.

# Our own code builds with warnings as errors; third-party headers are
# included as SYSTEM and do not count.
set(MCUNAS_WARNINGS -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Werror)

function(mcunas_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${MCUNAS_WARNINGS}>)
endfunction()

# mcunas_test(NAME SOURCES a.cc b.cc LIBS x y [LABELS l]): a GoogleTest binary
# registered with ctest, run from the repository root so tests can find
# ../shared/models.
function(mcunas_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    MCUNAS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  mcunas_warnings(${name})
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()
