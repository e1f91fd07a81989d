# benchmarks/soak.sh is opt-in (30 minutes by default); this runs it for
# seconds on epoll so the script itself cannot rot unnoticed.
if(TARGET fp-echo-load AND TARGET epoll)
  find_program(FP_BASH bash REQUIRED)
  add_test(NAME soak_script
    COMMAND ${FP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/soak_script.sh ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR})
  set_tests_properties(soak_script PROPERTIES TIMEOUT 120)
endif()
