add_test(NAME exported_symbols COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scripts/exported_symbols.sh ${CMAKE_BINARY_DIR})
add_test(NAME no_transport_names COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scripts/no_transport_names.sh ${PROJECT_SOURCE_DIR})
