# Outbound sessions, once per transport.
add_executable(check_outbound check_outbound.c)
target_link_libraries(check_outbound PRIVATE fastport::fastport PkgConfig::CHECK)
set_target_properties(check_outbound PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
get_property(fp_outbound_transports GLOBAL PROPERTY FP_TRANSPORT_TARGETS)
foreach(t ${fp_outbound_transports})
  add_dependencies(check_outbound ${t})
  add_test(NAME outbound_${t} COMMAND check_outbound ${t})
  set_tests_properties(outbound_${t} PROPERTIES TIMEOUT 120 ENVIRONMENT
    "FP_TEST_TRANSPORT_DIR=${CMAKE_BINARY_DIR}/${FP_TRANSPORT_SUBDIR};FP_TEST_PLUGIN_DIR=${CMAKE_BINARY_DIR}/${FP_PLUGIN_SUBDIR}")
endforeach()
add_dependencies(check_outbound echo)
