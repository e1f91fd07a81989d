# Loader refusals: fixture plugins and transports built with one defect each.
set(FP_FIXTURE_DIR ${CMAKE_BINARY_DIR}/tests/fixtures)
function(fp_add_fixture kind name defines)
  add_library(fixture_${kind}_${name} MODULE fixtures/${kind}_fixture.c)
  target_link_libraries(fixture_${kind}_${name} PRIVATE fastport::sdk)
  target_compile_definitions(fixture_${kind}_${name} PRIVATE FIXTURE_NAME="${name}" ${defines})
  set_target_properties(fixture_${kind}_${name} PROPERTIES PREFIX "" OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${FP_FIXTURE_DIR}/${kind}s)
  list(APPEND FP_FIXTURE_TARGETS fixture_${kind}_${name})
  set(FP_FIXTURE_TARGETS ${FP_FIXTURE_TARGETS} PARENT_SCOPE)
endfunction()

fp_add_fixture(plugin good "")
fp_add_fixture(plugin good_twin "")
fp_add_fixture(plugin major FIXTURE_ABI_MAJOR)
fp_add_fixture(plugin minor FIXTURE_ABI_MINOR)
fp_add_fixture(plugin small FIXTURE_SMALL)
fp_add_fixture(plugin noentry FIXTURE_NO_ENTRY)
fp_add_fixture(plugin initfails FIXTURE_INIT_FAILS)
fp_add_fixture(transport major FIXTURE_ABI_MAJOR)
fp_add_fixture(transport small FIXTURE_SMALL)
fp_add_fixture(transport misnamed FIXTURE_WRONG_NAME)
# Named like a Windows transport: a file that is there is loaded as usual,
# not refused as another platform's (it then fails for lacking methods).
fp_add_fixture(transport rio "")

fp_add_check_test(check_loader SOURCES check_loader.c LIBS fastport_core)
target_compile_definitions(check_loader PRIVATE FP_FIXTURE_DIR="${FP_FIXTURE_DIR}")
add_dependencies(check_loader ${FP_FIXTURE_TARGETS} echo)
if(TARGET epoll)
  add_dependencies(check_loader epoll)
endif()

fp_add_check_test(check_session SOURCES check_session.c LIBS fastport_core)
fp_add_check_test(check_worker_wake SOURCES check_worker_wake.c LIBS fastport_core Threads::Threads)

add_library(fixture_plugin_apitest MODULE fixtures/apitest_plugin.c)
target_link_libraries(fixture_plugin_apitest PRIVATE fastport::sdk)
set_target_properties(fixture_plugin_apitest PROPERTIES PREFIX "" OUTPUT_NAME apitest
  LIBRARY_OUTPUT_DIRECTORY ${FP_FIXTURE_DIR}/plugins)
fp_add_check_test(check_plugin_api SOURCES check_plugin_api.c support/blocking_client.c
  LIBS fastport::fastport ZLIB::ZLIB)
target_compile_definitions(check_plugin_api PRIVATE FP_FIXTURE_DIR="${FP_FIXTURE_DIR}")
add_dependencies(check_plugin_api fixture_plugin_apitest)
if(TARGET epoll)
  add_dependencies(check_plugin_api epoll)
endif()

# Each case runs in its own process (Check's fork mode): the fake core
# count and the recorders start fresh.
if(TARGET epoll)
  fp_add_check_test(check_engine_limits SOURCES check_engine_limits.c support/blocking_client.c
    LIBS fastport::fastport Threads::Threads ${CMAKE_DL_LIBS})
  add_dependencies(check_engine_limits epoll)
endif()
