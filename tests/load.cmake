# fp-echo-load's reply verification, shown to fail: the server runs
# faulty_echo, a fixture plugin that gets one frame in N wrong on purpose
# (flipped byte, stale payload, wrong id, dropped reply), and the client
# must reject every one of those runs and pass the fault-free control.
if(TARGET fp-echo-load AND TARGET epoll)
  find_program(FP_BASH bash REQUIRED)
  set(FP_LOAD_FIXTURE_DIR ${CMAKE_BINARY_DIR}/tests/fixtures/load-plugins)
  add_library(fixture_plugin_faulty_echo MODULE fixtures/faulty_echo_plugin.c)
  target_link_libraries(fixture_plugin_faulty_echo PRIVATE fastport::sdk)
  set_target_properties(fixture_plugin_faulty_echo PROPERTIES PREFIX "" OUTPUT_NAME faulty_echo
    LIBRARY_OUTPUT_DIRECTORY ${FP_LOAD_FIXTURE_DIR})

  add_test(NAME load_verifies
    COMMAND ${FP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/load_verifies.sh
            $<TARGET_FILE:fastport-server> $<TARGET_FILE:fp-echo-load> ${FP_LOAD_FIXTURE_DIR})
  set_tests_properties(load_verifies PROPERTIES TIMEOUT 90)
endif()
