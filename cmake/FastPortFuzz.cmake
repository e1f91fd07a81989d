# -DFP_FUZZ=ON (with clang, and FP_SANITIZE=address,undefined): every
# object gets libFuzzer's coverage instrumentation, and tests/fuzz.cmake
# links each fuzz target a second time, as a libFuzzer program fuzz_NAME in
# <build>/fuzz/. scripts/fuzz.sh configures and drives such a build.
option(FP_FUZZ "Also build the libFuzzer programs of tests/fuzz (clang only)" OFF)
if(FP_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "FP_FUZZ needs clang (libFuzzer); configure with -DCMAKE_C_COMPILER=clang-14")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
