# Wire codec: framing and zlib payloads. Built from the engine sources
# directly so the suites do not depend on the rest of libfastport.
fp_add_check_test(check_framer
  SOURCES check_framer.c ${PROJECT_SOURCE_DIR}/engine/framer.c)
fp_add_check_test(check_compress
  SOURCES check_compress.c ${PROJECT_SOURCE_DIR}/engine/compress.c
  LIBS ZLIB::ZLIB)
