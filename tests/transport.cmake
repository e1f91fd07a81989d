# The transport contract suite (check_transport.c): one executable, run as
# transport_contract_<name> for every transport fp_add_transport built, so a
# new transport needs no line here; -DFP_CONTRACT_TRANSPORTS=a;b narrows it.
# Exit code 77 (the transport's probe refuses this machine) is a skip.
get_property(fp_contract_built GLOBAL PROPERTY FP_TRANSPORT_TARGETS)
if(NOT DEFINED FP_CONTRACT_TRANSPORTS)
  set(FP_CONTRACT_TRANSPORTS ${fp_contract_built})
endif()

add_executable(check_transport
  check_transport.c
  check_transport_mt.c
  support/transport_harness.c
  support/transport_mt.c
  support/transport_check.c)
target_include_directories(check_transport PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_link_libraries(check_transport PRIVATE fastport::sdk PkgConfig::CHECK
  ${CMAKE_DL_LIBS} Threads::Threads)
if(WIN32)
  # the peers are Winsock sockets (support/th_os.h); Check runs without
  # fork there, so the suite calls srunner_set_fork_status(CK_NOFORK)
  target_link_libraries(check_transport PRIVATE ws2_32)
endif()
set_target_properties(check_transport PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
# Building the suite builds what it loads at run time.
if(fp_contract_built)
  add_dependencies(check_transport ${fp_contract_built})
endif()

foreach(name IN LISTS FP_CONTRACT_TRANSPORTS)
  add_test(NAME transport_contract_${name} COMMAND check_transport ${name})
  set_tests_properties(transport_contract_${name} PROPERTIES
    TIMEOUT 600 SKIP_RETURN_CODE 77
    ENVIRONMENT "FP_TEST_TRANSPORT_DIR=${CMAKE_BINARY_DIR}/${FP_TRANSPORT_SUBDIR}")
endforeach()
