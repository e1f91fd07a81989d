# The io_uring transport's own suite: its send pool (uring_pool.c compiled
# in, against a real ring) and uring.so under starvation, a tiny CQ and a
# tiny buffer ring. Only where uring.so is built (liburing present).
if(TARGET uring)
  pkg_check_modules(FP_URING_TEST REQUIRED IMPORTED_TARGET liburing)
  fp_add_check_test(check_uring_pool
    SOURCES check_uring_pool.c
      support/transport_harness.c
      ${PROJECT_SOURCE_DIR}/transports/uring/uring_pool.c
      ${PROJECT_SOURCE_DIR}/transports/common/slice_pool.c
    LIBS PkgConfig::FP_URING_TEST ${CMAKE_DL_LIBS} Threads::Threads
    TIMEOUT 300)
  target_include_directories(check_uring_pool PRIVATE
    ${PROJECT_SOURCE_DIR}/transports/uring ${PROJECT_SOURCE_DIR}/transports/common)
  add_dependencies(check_uring_pool uring)
endif()
