# What a newcomer runs first: the package installer's three cases (root,
# sudo, neither), and the README's example commands, as written, against
# the server scripts/setup-and-run.sh starts.
find_program(FP_BASH bash REQUIRED)

add_test(NAME need_packages
  COMMAND ${FP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/need_packages.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(need_packages PROPERTIES TIMEOUT 60)

if(TARGET fastport-client AND TARGET fastport-bench AND TARGET fp-echo-load)
  add_test(NAME readme_commands
    COMMAND ${FP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/readme_commands.sh
            ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR} $<TARGET_FILE:fp-transport-probe>)
  # Not run alongside other tests: it needs the README's fixed port 6628.
  set_tests_properties(readme_commands PROPERTIES TIMEOUT 900 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
endif()
