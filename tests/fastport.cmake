# The FastPort protocol: the messages against hand-written bytes, the
# fastport plugin in an in-process engine, and fastport-client against a
# real fastport-server, the last two once per transport built.

fp_add_check_test(check_fastport_proto SOURCES check_fastport_proto.c LIBS fastport_proto)

get_property(fp_fastport_transports GLOBAL PROPERTY FP_TRANSPORT_TARGETS)
set(fp_fastport_env
  "FP_TEST_TRANSPORT_DIR=${CMAKE_BINARY_DIR}/${FP_TRANSPORT_SUBDIR}"
  "FP_TEST_PLUGIN_DIR=${CMAKE_BINARY_DIR}/${FP_PLUGIN_SUBDIR}"
  "FP_TEST_BIN_DIR=${CMAKE_BINARY_DIR}/bin")

add_executable(check_fastport_plugin check_fastport_plugin.c support/blocking_client.c
  support/transport_check.c)
target_include_directories(check_fastport_plugin PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_link_libraries(check_fastport_plugin PRIVATE fastport::fastport fastport_proto
  PkgConfig::CHECK ${CMAKE_DL_LIBS})
set_target_properties(check_fastport_plugin PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
# Building the suite builds what it loads at run time.
add_dependencies(check_fastport_plugin fastport_plugin ${fp_fastport_transports})

foreach(transport IN LISTS fp_fastport_transports)
  add_test(NAME fastport_plugin_${transport} COMMAND check_fastport_plugin ${transport})
  # 77: the transport's probe says this machine cannot run it.
  set_tests_properties(fastport_plugin_${transport} PROPERTIES
    TIMEOUT 300 SKIP_RETURN_CODE 77 ENVIRONMENT "${fp_fastport_env}")
endforeach()

if(TARGET fastport-client)
  find_program(FP_BASH bash REQUIRED)
  # Building the plugin suite builds everything these tests run.
  add_dependencies(check_fastport_plugin fastport-client fastport-server fp-transport-probe echo)
  foreach(transport IN LISTS fp_fastport_transports)
    add_test(NAME fastport_client_${transport}
      COMMAND ${FP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/client_scripted.sh
              $<TARGET_FILE:fastport-server> $<TARGET_FILE:fastport-client> ${transport}
              $<TARGET_FILE:fp-transport-probe> ${CMAKE_BINARY_DIR}/${FP_TRANSPORT_SUBDIR})
    set_tests_properties(fastport_client_${transport} PROPERTIES
      TIMEOUT 120 SKIP_RETURN_CODE 77 ENVIRONMENT "${fp_fastport_env}")
  endforeach()
endif()
