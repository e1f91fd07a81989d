# Cross-built Windows programs and tests run under Wine: ctest and custom
# commands go through <build>/wine-run, which keeps one Wine prefix per
# build folder (so only the first run prints Wine's set-up lines).
find_program(FP_WINE NAMES wine64 wine PATHS /usr/lib/wine /usr/lib64/wine NO_DEFAULT_PATH)
find_program(FP_WINE NAMES wine64 wine)
if(FP_WINE)
  set(FP_WINE_RUN "${CMAKE_BINARY_DIR}/wine-run")
  configure_file(${CMAKE_CURRENT_LIST_DIR}/wine-run.sh.in ${FP_WINE_RUN} @ONLY
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${FP_WINE_RUN})
  message(STATUS "Windows programs run under ${FP_WINE} via ${FP_WINE_RUN}")
else()
  message(STATUS "wine64 not found: the Windows build's tests cannot run here")
endif()
