add_test(NAME exported_symbols COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scripts/exported_symbols.sh ${CMAKE_BINARY_DIR})
add_test(NAME no_transport_names COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scripts/no_transport_names.sh ${PROJECT_SOURCE_DIR})
get_target_property(fp_core_sources fastport_transport_core SOURCES)
add_test(NAME transport_core_portable COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scripts/core_portable.sh
  ${PROJECT_SOURCE_DIR}/transports/common ${PROJECT_SOURCE_DIR}/sdk/include ${fp_core_sources})
set_tests_properties(transport_core_portable PROPERTIES SKIP_RETURN_CODE 77)
if(WIN32)
  add_test(NAME windows_imports COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scripts/windows_imports.sh ${CMAKE_BINARY_DIR})
endif()
