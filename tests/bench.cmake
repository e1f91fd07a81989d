# fastport-bench's figures and output formats: statistics, CSV, SVG and
# the comparison table, without a network. The library target comes from
# apps/fastport-bench; include its definition here if the program is not
# part of this build, so the suite still runs.
if(NOT TARGET fastport_bench_lib)
  include(${PROJECT_SOURCE_DIR}/apps/fastport-bench/bench_lib.cmake)
endif()
fp_add_check_test(check_bench_stats
  SOURCES check_bench_stats.c
  LIBS fastport_bench_lib)
