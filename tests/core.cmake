# Core engine building blocks, compiled straight from their sources so the
# suites do not depend on the rest of libfastport.
set(FP_ENGINE_DIR ${PROJECT_SOURCE_DIR}/engine)

fp_add_check_test(check_mailbox SOURCES check_mailbox.c ${FP_ENGINE_DIR}/mailbox.c
  LIBS fastport_platform Threads::Threads)
fp_add_check_test(check_timer SOURCES check_timer.c ${FP_ENGINE_DIR}/timer.c)
fp_add_check_test(check_addr SOURCES check_addr.c ${FP_ENGINE_DIR}/addr.c ${FP_ENGINE_DIR}/inet_text.c
  LIBS fastport_platform)
# Builds its directory trees with mkdtemp and symlinks: POSIX only for now.
if(NOT WIN32)
  fp_add_check_test(check_paths SOURCES check_paths.c ${FP_ENGINE_DIR}/paths.c
    LIBS fastport_platform Threads::Threads)
endif()

# The transport core's malloc'd send pool, on its own.
fp_add_check_test(check_chunk_pool SOURCES check_chunk_pool.c
  ${PROJECT_SOURCE_DIR}/transports/common/chunk_pool.c)
target_include_directories(check_chunk_pool PRIVATE ${PROJECT_SOURCE_DIR}/transports/common)
