# rio_provider.dll: a software Registered I/O provider for tests only
# (rio_provider/README.md): the RIO function table on overlapped Winsock
# I/O, enforcing RIO's rules, for Wine, which has no RIO. Built beside the
# test programs, never installed. The suite `rio_provider` proves its rules.
if(NOT WIN32)
  return()
endif()

add_library(rio_provider MODULE
  rio_provider/provider_entry.c
  rio_provider/provider_table.c
  rio_provider/provider_buffers.c
  rio_provider/provider_cq.c
  rio_provider/provider_rq.c
  rio_provider/provider_io.c)
target_include_directories(rio_provider PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/rio_provider ${PROJECT_SOURCE_DIR}/transports/rio)
target_compile_definitions(rio_provider PRIVATE FP_RIO_PROVIDER_BUILD)
target_link_libraries(rio_provider PRIVATE ws2_32)
set_target_properties(rio_provider PROPERTIES PREFIX ""
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

# The suite loads rio_provider.dll from its own folder (LoadLibrary, as
# rio.dll does), so it needs no link to it.
add_executable(check_rio_provider check_rio_provider.c)
target_include_directories(check_rio_provider PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/support ${CMAKE_CURRENT_SOURCE_DIR}/rio_provider
  ${PROJECT_SOURCE_DIR}/transports/rio)
target_link_libraries(check_rio_provider PRIVATE PkgConfig::CHECK ws2_32)
set_target_properties(check_rio_provider PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_dependencies(check_rio_provider rio_provider)
add_test(NAME rio_provider COMMAND check_rio_provider)
set_tests_properties(rio_provider PROPERTIES TIMEOUT 300)
