# Cross build for 64-bit Windows (Windows 8 or later) with Debian's
# mingw-w64, posix thread model: gcc-mingw-w64-x86-64-posix.
#
# Libraries are looked up only in the mingw sysroot and in
# FP_MINGW_DEPS_PREFIX (Check and protobuf-c cross-built by
# scripts/mingw-deps.sh), never among the host's Linux libraries.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(FP_MINGW_TRIPLE x86_64-w64-mingw32)

find_program(CMAKE_C_COMPILER NAMES ${FP_MINGW_TRIPLE}-gcc-posix ${FP_MINGW_TRIPLE}-gcc REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${FP_MINGW_TRIPLE}-windres)

if(NOT FP_MINGW_DEPS_PREFIX)
  if(DEFINED ENV{FP_MINGW_DEPS_PREFIX})
    set(FP_MINGW_DEPS_PREFIX "$ENV{FP_MINGW_DEPS_PREFIX}")
  else()
    get_filename_component(FP_MINGW_DEPS_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../build-mingw-deps/prefix" ABSOLUTE)
  endif()
endif()
set(FP_MINGW_DEPS_PREFIX "${FP_MINGW_DEPS_PREFIX}" CACHE PATH "Check and protobuf-c built for mingw-w64")

set(CMAKE_FIND_ROOT_PATH /usr/${FP_MINGW_TRIPLE} "${FP_MINGW_DEPS_PREFIX}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config sees the cross libraries only.
set(ENV{PKG_CONFIG_LIBDIR} "${FP_MINGW_DEPS_PREFIX}/lib/pkgconfig:/usr/${FP_MINGW_TRIPLE}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
