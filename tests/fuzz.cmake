# Fuzz targets (tests/fuzz, docs/FUZZING.md). Each fuzz_NAME.c is linked
# with tests/fuzz/replay_main.c into fuzz_replay_NAME, a test that runs it on
# every file of tests/fuzz/corpus/NAME (and tests/fuzz/regressions/NAME, if
# there is one) under the preset's own compiler and sanitizers. With
# FP_FUZZ (cmake/FastPortFuzz.cmake) it is also linked with libFuzzer into
# <build>/fuzz/fuzz_NAME, which scripts/fuzz.sh runs.
set(FP_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)

# fp_add_fuzz_target(NAME [SOURCES more.c...] [LIBS libs...] [INCLUDES dirs...])
function(fp_add_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS;INCLUDES" ${ARGN})
  set(corpus ${FP_FUZZ_DIR}/corpus/${name})
  set(inputs ${corpus})
  if(IS_DIRECTORY ${FP_FUZZ_DIR}/regressions/${name})
    list(APPEND inputs ${FP_FUZZ_DIR}/regressions/${name})
  endif()
  set(kinds replay)
  if(FP_FUZZ)
    list(APPEND kinds libfuzzer)
  endif()
  foreach(kind IN LISTS kinds)
    if(kind STREQUAL replay)
      set(exe fuzz_replay_${name})
      add_executable(${exe} ${FP_FUZZ_DIR}/replay_main.c)
      set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    else()
      set(exe fuzz_${name})
      add_executable(${exe} EXCLUDE_FROM_ALL)
      target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
      set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
    endif()
    target_sources(${exe} PRIVATE ${FP_FUZZ_DIR}/fuzz_${name}.c ${F_SOURCES})
    target_include_directories(${exe} PRIVATE ${FP_FUZZ_DIR} ${PROJECT_SOURCE_DIR}/engine ${F_INCLUDES})
    target_link_libraries(${exe} PRIVATE fastport::sdk ${F_LIBS})
  endforeach()
  add_test(NAME fuzz_replay_${name} COMMAND fuzz_replay_${name} ${inputs})
  set_tests_properties(fuzz_replay_${name} PROPERTIES TIMEOUT 300)
endfunction()

set(fp_fuzz_session ${FP_FUZZ_DIR}/fuzz_session.c)
fp_add_fuzz_target(framer_dispatch SOURCES ${fp_fuzz_session} LIBS fastport_core ZLIB::ZLIB)
fp_add_fuzz_target(split SOURCES ${fp_fuzz_session} LIBS fastport_core ZLIB::ZLIB)
fp_add_fuzz_target(inflate SOURCES ${fp_fuzz_session} LIBS fastport_core ZLIB::ZLIB)
set(fp_fastport_dir ${PROJECT_SOURCE_DIR}/plugins/fastport)
fp_add_fuzz_target(fastport_proto
  SOURCES ${fp_fastport_dir}/echo_handlers.c ${fp_fastport_dir}/admin_handlers.c ${fp_fastport_dir}/reply.c
          ${fp_fastport_dir}/process_usage.c ${fp_fastport_dir}/process_clock_posix.c
  LIBS fastport_proto Threads::Threads
  INCLUDES ${fp_fastport_dir})
fp_add_fuzz_target(options
  SOURCES ${PROJECT_SOURCE_DIR}/apps/fastport-server/options.c
  LIBS fp_cli fastport_core
  INCLUDES ${PROJECT_SOURCE_DIR}/apps/fastport-server)
