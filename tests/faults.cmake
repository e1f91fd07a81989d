# Fault tests (issue 11): fastport-server with the echo plugin, on every
# Linux transport built, against descriptor exhaustion, half-closed
# connections, peers that reset while replies are being written (SIGPIPE)
# and a storm of short connections reusing descriptor numbers. One test
# per fault and transport, faults_<fault>_<transport>; 77 (the transport's
# probe refuses this machine) is a skip. -DFP_FAULT_TRANSPORTS=a;b narrows
# it. The storm also runs against each transport library alone
# (faults_storm_transport_<transport>), where callbacks are counted per
# connection.
get_property(fp_fault_built GLOBAL PROPERTY FP_TRANSPORT_TARGETS)
if(NOT DEFINED FP_FAULT_TRANSPORTS)
  set(FP_FAULT_TRANSPORTS ${fp_fault_built})
endif()

add_executable(fp-fault-client
  faults/fault_main.c
  faults/fault_net.c
  faults/fault_emfile.c
  faults/fault_halfclose.c
  faults/fault_sigpipe.c
  faults/fault_storm.c)
target_link_libraries(fp-fault-client PRIVATE fastport::sdk)
set_target_properties(fp-fault-client PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

# The release build runs the issue's 100,000 cycles; a sanitizer build is
# several times slower and runs 30,000.
if(FP_SANITIZE)
  set(fp_storm_cycles 30000)
else()
  set(fp_storm_cycles 100000)
endif()

# The storm again, against the transport library alone (no engine): counts
# on_closed and every callback per connection.
add_executable(check_fault_storm
  faults/check_fault_storm.c
  faults/fault_net.c
  support/transport_harness.c
  support/transport_check.c)
target_include_directories(check_fault_storm PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/support
  ${CMAKE_CURRENT_SOURCE_DIR}/faults)
target_link_libraries(check_fault_storm PRIVATE fastport::sdk PkgConfig::CHECK ${CMAKE_DL_LIBS})
set_target_properties(check_fault_storm PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
if(fp_fault_built)
  add_dependencies(check_fault_storm ${fp_fault_built})
endif()

foreach(transport IN LISTS FP_FAULT_TRANSPORTS)
  add_test(NAME faults_storm_transport_${transport} COMMAND check_fault_storm ${transport})
  set_tests_properties(faults_storm_transport_${transport} PROPERTIES
    TIMEOUT 300 SKIP_RETURN_CODE 77 ENVIRONMENT
    "FP_TEST_TRANSPORT_DIR=${CMAKE_BINARY_DIR}/${FP_TRANSPORT_SUBDIR};FP_FAULT_STORM_CYCLES=${fp_storm_cycles}")
  foreach(fault emfile halfclose sigpipe storm)
    add_test(NAME faults_${fault}_${transport}
      COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/faults.sh ${fault}
        $<TARGET_FILE:fastport-server> $<TARGET_FILE:fp-fault-client>
        $<TARGET_FILE:fp-transport-probe> ${CMAKE_BINARY_DIR}/${FP_TRANSPORT_SUBDIR} ${transport})
    set_tests_properties(faults_${fault}_${transport} PROPERTIES
      TIMEOUT 300 SKIP_RETURN_CODE 77 ENVIRONMENT "FP_FAULT_STORM_CYCLES=${fp_storm_cycles}")
  endforeach()
endforeach()
