# fastport-bench end to end against real fastport-server processes on
# loopback: --compare over every transport built (a single one is compared
# with itself), --connect on each transport, and the command line's error
# exits. Shell tests: they run the build-tree binaries as a user would.
find_program(FP_BASH bash REQUIRED)

if(TARGET fastport-bench AND TARGET fastport-server)
  get_property(fp_bench_transports GLOBAL PROPERTY FP_TRANSPORT_TARGETS)
  set(fp_bench_transport_dir ${CMAKE_BINARY_DIR}/${FP_TRANSPORT_SUBDIR})
  # fp-transport-probe comes from e2e.cmake; generator expressions resolve
  # after every area is read, so the order of inclusion does not matter.
  set(fp_bench_probe $<TARGET_FILE:fp-transport-probe>)

  add_test(NAME bench_cli
    COMMAND ${FP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/bench_cli.sh
            $<TARGET_FILE:fastport-bench> $<TARGET_FILE:fastport-server> ${fp_bench_transport_dir})
  set_tests_properties(bench_cli PROPERTIES TIMEOUT 120)

  add_test(NAME bench_compare
    COMMAND ${FP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/bench_compare.sh
            $<TARGET_FILE:fastport-bench> ${fp_bench_probe} ${fp_bench_transport_dir}
            ${fp_bench_transports})
  set_tests_properties(bench_compare PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)

  foreach(transport IN LISTS fp_bench_transports)
    add_test(NAME bench_connect_${transport}
      COMMAND ${FP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/bench_connect.sh
              $<TARGET_FILE:fastport-bench> $<TARGET_FILE:fastport-server> ${fp_bench_probe}
              ${fp_bench_transport_dir} ${transport})
    set_tests_properties(bench_connect_${transport} PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77)
  endforeach()
endif()
