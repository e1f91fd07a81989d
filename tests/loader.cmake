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

# fallback/: the default order's first transport as a fixture whose open
# always fails, beside a copy of the real second (the loader refuses links
# leaving its directory), for the fall-through to the next transport.
string(REPLACE " " "" fp_order "${FP_DEFAULT_TRANSPORT_ORDER}")
string(REPLACE "," ";" fp_order "${fp_order}")
list(LENGTH fp_order fp_order_length)
if(fp_order_length GREATER 1)
  list(GET fp_order 0 fp_first)
  list(GET fp_order 1 fp_second)
endif()
if(fp_order_length GREATER 1 AND TARGET ${fp_second})
  set(fp_fallback_dir ${FP_FIXTURE_DIR}/fallback)
  add_library(fixture_transport_openfails MODULE fixtures/lost_close_transport.c)
  target_link_libraries(fixture_transport_openfails PRIVATE fastport::sdk)
  target_compile_definitions(fixture_transport_openfails PRIVATE FIXTURE_OPEN_FAILS_AS="${fp_first}")
  set_target_properties(fixture_transport_openfails PROPERTIES PREFIX "" OUTPUT_NAME ${fp_first}
    LIBRARY_OUTPUT_DIRECTORY ${fp_fallback_dir})
  add_custom_target(fixture_fallback_second
    COMMAND ${CMAKE_COMMAND} -E copy_if_different $<TARGET_FILE:${fp_second}> ${fp_fallback_dir}/
    DEPENDS ${fp_second} fixture_transport_openfails)
  add_dependencies(check_loader fixture_fallback_second)
  target_compile_definitions(check_loader PRIVATE FP_FALLBACK_DIR="${fp_fallback_dir}"
    FP_FALLBACK_FIRST="${fp_first}" FP_FALLBACK_SECOND="${fp_second}")
endif()
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
    support/fake_cpu_count.c LIBS fastport::fastport Threads::Threads)
  set_source_files_properties(support/fake_cpu_count.c PROPERTIES COMPILE_OPTIONS -fno-sanitize=all)
  add_dependencies(check_engine_limits epoll)
  if(TARGET uring)
    add_dependencies(check_engine_limits uring)
  endif()
endif()
