# End-to-end tests: the echo suite run once per transport (and once against
# a fastport-server process), the transport swap of one fastport-server
# binary, and an out-of-tree plugin built from the installed SDK.

add_library(fp_e2e_support STATIC
  support/e2e_payload.c
  support/e2e_client.c
  support/transport_check.c)
target_include_directories(fp_e2e_support PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_link_libraries(fp_e2e_support PUBLIC fastport::sdk ${CMAKE_DL_LIBS})

get_property(fp_transport_targets GLOBAL PROPERTY FP_TRANSPORT_TARGETS)
# The suite runs against every transport built; -DFP_E2E_TRANSPORTS=a;b narrows it.
if(NOT DEFINED FP_E2E_TRANSPORTS)
  set(FP_E2E_TRANSPORTS ${fp_transport_targets})
endif()

set(fp_e2e_env
  "FP_TEST_TRANSPORT_DIR=${CMAKE_BINARY_DIR}/${FP_TRANSPORT_SUBDIR}"
  "FP_TEST_PLUGIN_DIR=${CMAKE_BINARY_DIR}/${FP_PLUGIN_SUBDIR}"
  "FP_TEST_BIN_DIR=${CMAKE_BINARY_DIR}/bin")

# The server under test: an engine in the test process, or a fastport-server
# process (FP_E2E_SERVER) such as the Windows build under Wine.
add_executable(check_e2e check_e2e.c support/e2e_server.c support/e2e_server_engine.c
  support/e2e_server_process.c)
target_link_libraries(check_e2e PRIVATE fp_e2e_support fastport::fastport ZLIB::ZLIB
  PkgConfig::CHECK Threads::Threads)
set_target_properties(check_e2e PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
# Building the suite builds what it loads at run time.
add_dependencies(check_e2e echo ${fp_transport_targets})

foreach(transport IN LISTS FP_E2E_TRANSPORTS)
  add_test(NAME e2e_${transport} COMMAND check_e2e ${transport})
  # 77: the transport's probe says this machine cannot run it.
  set_tests_properties(e2e_${transport} PROPERTIES
    TIMEOUT 1800 SKIP_RETURN_CODE 77 ENVIRONMENT "${fp_e2e_env}")
endforeach()

# The same suite against a fastport-server process instead of an in-process
# engine: the mode that drives the Windows build under Wine (windows.cmake),
# kept working on every Linux run.
if(epoll IN_LIST fp_transport_targets)
  add_dependencies(check_e2e fastport-server)
  add_test(NAME e2e_external_epoll COMMAND check_e2e epoll)
  set_tests_properties(e2e_external_epoll PROPERTIES
    TIMEOUT 1800 ENVIRONMENT "FP_E2E_SERVER=$<TARGET_FILE:fastport-server>")
endif()

add_executable(fp-echo-probe support/echo_probe.c support/e2e_payload.c)
target_include_directories(fp-echo-probe PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_link_libraries(fp-echo-probe PRIVATE fastport::sdk)
set_target_properties(fp-echo-probe PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

add_executable(fp-transport-probe support/transport_probe.c)
target_link_libraries(fp-transport-probe PRIVATE fp_e2e_support)
set_target_properties(fp-transport-probe PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

add_test(NAME swap_transports
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/swap_transports.sh
    $<TARGET_FILE:fastport-server> $<TARGET_FILE:fp-echo-probe>
    $<TARGET_FILE:fp-transport-probe> ${CMAKE_BINARY_DIR}/${FP_TRANSPORT_SUBDIR})
set_tests_properties(swap_transports PROPERTIES TIMEOUT 300)

# The README's plugin example, built and installed as the README says
# against this build installed into a temporary folder.
add_test(NAME oot_plugin
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/oot_plugin.sh
    ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR}/README.md
    $<TARGET_FILE:fp-echo-probe> ${CMAKE_COMMAND} ${CMAKE_C_COMPILER})
set_tests_properties(oot_plugin PROPERTIES TIMEOUT 600)
