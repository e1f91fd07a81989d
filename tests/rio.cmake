# rio.dll's own suite (check_rio.c, check_rio_queues.c): its registered
# pools, lending, options, deferred-send batching, completion-queue growth
# and recovery from faults injected by the test provider. Windows only.
#
# Under Wine (cross build), which has no Registered I/O, rio.dll runs on
# rio_provider.dll (rio_provider.cmake): FP_RIO_TEST_PROVIDER names it by a
# Windows path, Z: plus the absolute Linux path; the contract suite's run
# of rio (transport.cmake) gets the same. On a native Windows build both
# run on Winsock's RIO, and rio_suite_provider runs this suite on the
# provider as well. Exit code 77: neither a provider nor RIO.
if(NOT WIN32 OR NOT TARGET rio OR NOT TARGET rio_provider)
  return()
endif()

add_executable(check_rio
  check_rio.c check_rio_queues.c
  support/rio_test.c support/transport_harness.c support/transport_check.c)
target_include_directories(check_rio PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/support ${CMAKE_CURRENT_SOURCE_DIR}/rio_provider
  ${PROJECT_SOURCE_DIR}/transports/rio)
target_link_libraries(check_rio PRIVATE fastport::sdk PkgConfig::CHECK ws2_32)
set_target_properties(check_rio PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_dependencies(check_rio rio rio_provider)

set(fp_rio_env "FP_TEST_TRANSPORT_DIR=${CMAKE_BINARY_DIR}/${FP_TRANSPORT_SUBDIR}")
set(fp_rio_provider_env "FP_RIO_TEST_PROVIDER=$<TARGET_FILE:rio_provider>")
if(CMAKE_CROSSCOMPILING)
  # Wine maps the Linux root to Z:
  set(fp_rio_provider_env "FP_RIO_TEST_PROVIDER=Z:$<TARGET_FILE:rio_provider>")
endif()

add_test(NAME rio_suite COMMAND check_rio)
if(CMAKE_CROSSCOMPILING)
  set_tests_properties(rio_suite PROPERTIES ENVIRONMENT "${fp_rio_env};${fp_rio_provider_env}")
  if(TEST transport_contract_rio)
    set_property(TEST transport_contract_rio APPEND PROPERTY ENVIRONMENT "${fp_rio_provider_env}")
  endif()
else()
  set_tests_properties(rio_suite PROPERTIES ENVIRONMENT "${fp_rio_env}")
  add_test(NAME rio_suite_provider COMMAND check_rio)
  set_tests_properties(rio_suite_provider PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77
    ENVIRONMENT "${fp_rio_env};${fp_rio_provider_env}")
endif()
set_tests_properties(rio_suite PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77)
