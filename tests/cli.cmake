# fastport-server's command line (parsing, error messages, --help), the
# refusals of all four programs side by side, and an end-to-end run of the
# server against fp-echo-load. Shell tests: they drive the installed-layout
# binaries exactly as a user would.
find_program(FP_BASH bash REQUIRED)

add_test(NAME server_cli
  COMMAND ${FP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/server_cli.sh
          $<TARGET_FILE:fastport-server> ${PROJECT_VERSION})
set_tests_properties(server_cli PROPERTIES TIMEOUT 120)

if(TARGET fp-echo-load)
  add_test(NAME server_echo_run
    COMMAND ${FP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/server_run.sh
            $<TARGET_FILE:fastport-server> $<TARGET_FILE:fp-echo-load>)
  set_tests_properties(server_echo_run PROPERTIES TIMEOUT 180)
endif()

# The four programs' refusals, worded alike by their shared parser.
if(TARGET fastport-client AND TARGET fastport-bench AND TARGET fp-echo-load)
  add_test(NAME cli_wording
    COMMAND ${FP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/cli_wording.sh
            $<TARGET_FILE:fastport-server> $<TARGET_FILE:fastport-client>
            $<TARGET_FILE:fastport-bench> $<TARGET_FILE:fp-echo-load>)
  set_tests_properties(cli_wording PROPERTIES TIMEOUT 120)
endif()
