# Toolchain for bare-metal Cortex-M builds with Debian's arm-none-eabi GCC and
# newlib. Only the engine runtime builds this way (the top-level
# CMakeLists.txt turns MCUNAS_HOST_BUILD off for CMAKE_SYSTEM_NAME Generic):
#
#   cmake -S . -B build-m4 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake -DMCUNAS_CPU=cortex-m4
#
# MCUNAS_CPU picks the core and its FPU; the flags are the ones checked on the
# emulated MPS2 boards in /work/shared/HIL.md.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# Compiler checks cannot link a program without startup code and a linker
# script, so they only build a static library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(MCUNAS_CPU "cortex-m4" CACHE STRING
    "Cortex-M core to build for: cortex-m4, cortex-m7 or cortex-m33")
set_property(CACHE MCUNAS_CPU PROPERTY STRINGS cortex-m4 cortex-m7 cortex-m33)
# try_compile projects read this file again; give them the same core.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MCUNAS_CPU)

if(MCUNAS_CPU STREQUAL "cortex-m4")
  set(_mcunas_fpu "-mfpu=fpv4-sp-d16")
elseif(MCUNAS_CPU STREQUAL "cortex-m7")
  set(_mcunas_fpu "-mfpu=fpv5-d16")
elseif(MCUNAS_CPU STREQUAL "cortex-m33")
  set(_mcunas_fpu "-mfpu=fpv5-sp-d16")
else()
  message(FATAL_ERROR
    "MCUNAS_CPU='${MCUNAS_CPU}': expected cortex-m4, cortex-m7 or cortex-m33")
endif()

set(_mcunas_target "-mcpu=${MCUNAS_CPU} ${_mcunas_fpu} -mfloat-abi=hard -mthumb")
# Sections per function and object let --gc-sections drop what the firmware
# never calls. The runtime has no exceptions or RTTI, and runs on one thread,
# so function-local statics need no __cxa_guard_* locks.
set(CMAKE_C_FLAGS_INIT
    "${_mcunas_target} -O2 -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT
    "${CMAKE_C_FLAGS_INIT} -fno-exceptions -fno-rtti -fno-threadsafe-statics")
set(CMAKE_ASM_FLAGS_INIT "${_mcunas_target}")
# Programs bring their own startup code and linker script
# (engine/port/cortex_m); newlib-nano supplies memcpy/memset.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "--specs=nano.specs -nostartfiles -Wl,--gc-sections")

# Host programs (code generators) come from the host; libraries and headers
# only from the target toolchain.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
