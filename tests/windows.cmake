# The Windows build, driven from this Linux build: the end-to-end suite
# (check_e2e against an external server) on iocp and on rio, and a
# transport swap, all on a mingw-w64 build's fastport-server.exe under
# Wine, over loopback. Off
# unless -DFP_WINDOWS_BUILD_DIR=/path/to/build-mingw (configured with
# `cmake --preset mingw`, which generates its wine-run); each test is
# skipped (77) with the reason while the .exe or a DLL it needs is missing.
# Run them with: ctest --preset release -L wine

set(FP_WINDOWS_BUILD_DIR "" CACHE PATH
  "mingw-w64 build folder whose fastport-server.exe the Wine tests drive (empty: no Wine tests)")

if(FP_WINDOWS_BUILD_DIR)
  # One Wine prefix serves both; a suite of servers and a swap at once only
  # slow each other down.
  # rio runs on the build's test RIO provider: Wine has no Registered I/O
  foreach(transport iocp rio)
    add_test(NAME e2e_wine_${transport}
      COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/e2e_wine.sh
        ${FP_WINDOWS_BUILD_DIR} ${transport} $<TARGET_FILE:check_e2e>)
    set_tests_properties(e2e_wine_${transport} PROPERTIES
      LABELS wine TIMEOUT 3600 SKIP_RETURN_CODE 77 RESOURCE_LOCK wine_prefix)
  endforeach()

  add_test(NAME swap_wine
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/swap_wine.sh
      ${FP_WINDOWS_BUILD_DIR} $<TARGET_FILE:fp-echo-probe>)
  set_tests_properties(swap_wine PROPERTIES
    LABELS wine TIMEOUT 600 SKIP_RETURN_CODE 77 RESOURCE_LOCK wine_prefix)
endif()
