# Shutdown against a transport that loses close completions: the fixture
# transport lostclose.so and the suite proving a worker gives up on them.
set(FP_FIXTURE_DIR ${CMAKE_BINARY_DIR}/tests/fixtures)

add_library(fixture_transport_lostclose MODULE fixtures/lost_close_transport.c)
target_link_libraries(fixture_transport_lostclose PRIVATE fastport::sdk)
set_target_properties(fixture_transport_lostclose PROPERTIES PREFIX "" OUTPUT_NAME lostclose
  LIBRARY_OUTPUT_DIRECTORY ${FP_FIXTURE_DIR}/transports)

# The abandoned case waits the 2 s close grace; a hang fails at Check's 30 s.
fp_add_check_test(check_lost_close SOURCES check_lost_close.c LIBS fastport::fastport TIMEOUT 60)
target_compile_definitions(check_lost_close PRIVATE FP_FIXTURE_DIR="${FP_FIXTURE_DIR}")
add_dependencies(check_lost_close fixture_transport_lostclose echo)
