# fastport-bench's figures and output formats (statistics, CSV, SVG,
# tables): a static library so the program and the unit tests share them.
# Included from apps/fastport-bench/CMakeLists.txt, and from tests/bench.cmake
# when the program is not built; paths are absolute for either.
if(NOT TARGET fastport_bench_lib)
  add_library(fastport_bench_lib STATIC
    ${CMAKE_CURRENT_LIST_DIR}/bench_stats.c
    ${CMAKE_CURRENT_LIST_DIR}/bench_csv.c
    ${CMAKE_CURRENT_LIST_DIR}/bench_svg.c
    ${CMAKE_CURRENT_LIST_DIR}/bench_table.c)
  target_include_directories(fastport_bench_lib PUBLIC ${CMAKE_CURRENT_LIST_DIR})
  find_library(FP_LIBM m)
  if(FP_LIBM)
    target_link_libraries(fastport_bench_lib PUBLIC ${FP_LIBM})
  endif()
endif()
