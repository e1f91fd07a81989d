# Core engine building blocks, compiled straight from their sources so the
# suites do not depend on the rest of libfastport.
set(FP_ENGINE_DIR ${PROJECT_SOURCE_DIR}/engine)

fp_add_check_test(check_mailbox SOURCES check_mailbox.c ${FP_ENGINE_DIR}/mailbox.c ${FP_ENGINE_PLATFORM_SOURCES}
  LIBS Threads::Threads)
fp_add_check_test(check_timer SOURCES check_timer.c ${FP_ENGINE_DIR}/timer.c)
fp_add_check_test(check_addr SOURCES check_addr.c ${FP_ENGINE_DIR}/addr.c ${FP_ENGINE_DIR}/inet_text.c
  ${FP_ENGINE_PLATFORM_SOURCES} LIBS Threads::Threads)
fp_add_check_test(check_paths SOURCES check_paths.c ${FP_ENGINE_DIR}/paths.c ${FP_ENGINE_PLATFORM_SOURCES}
  LIBS Threads::Threads)
