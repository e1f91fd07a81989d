# The transport catalog: every transport FastPort has, on any platform.
# Each transport's directory declares itself in its transport.cmake,
#   fp_declare_transport(NAME PLATFORM <CMAKE_SYSTEM_NAME> SUMMARY "one line")
# and every declaration is read here whether or not the transport builds on
# this platform. The rows become transport_catalog_rows.h, which the
# engine's loader reads to tell a user who asks for another platform's
# transport what it is and what this machine has instead: so the engine's
# code still names no transport.

set(FP_TRANSPORT_CATALOG_ROWS "")

function(fp_declare_transport name)
  cmake_parse_arguments(T "" "PLATFORM;SUMMARY" "" ${ARGN})
  get_filename_component(dir ${CMAKE_CURRENT_LIST_FILE} DIRECTORY)
  get_filename_component(dir ${dir} NAME)
  if(NOT T_PLATFORM OR NOT T_SUMMARY OR T_UNPARSED_ARGUMENTS OR NOT name STREQUAL dir)
    message(FATAL_ERROR "${CMAKE_CURRENT_LIST_FILE}: expected "
      "fp_declare_transport(${dir} PLATFORM <CMAKE_SYSTEM_NAME> SUMMARY \"one line\")")
  endif()
  # The texts land in C string literals.
  if("${T_PLATFORM}${T_SUMMARY}" MATCHES "[\"\\\n]")
    message(FATAL_ERROR "${CMAKE_CURRENT_LIST_FILE}: PLATFORM and SUMMARY may not hold quotes, "
      "backslashes or line breaks")
  endif()
  list(APPEND FP_TRANSPORT_CATALOG_ROWS "    X(\"${name}\", \"${T_PLATFORM}\", \"${T_SUMMARY}\")")
  set(FP_TRANSPORT_CATALOG_ROWS "${FP_TRANSPORT_CATALOG_ROWS}" PARENT_SCOPE)
endfunction()

# Every transport's directory must declare itself: one it forgot would
# fall back to a bare "not found" on the other platform.
file(GLOB fp_transport_lists RELATIVE ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_CURRENT_LIST_DIR}/*/CMakeLists.txt)
foreach(list_file ${fp_transport_lists})
  get_filename_component(dir ${list_file} DIRECTORY)
  if(dir STREQUAL "common")
    continue()
  endif()
  if(NOT EXISTS ${CMAKE_CURRENT_LIST_DIR}/${dir}/transport.cmake)
    message(FATAL_ERROR "transports/${dir} has no transport.cmake declaring its platform and summary")
  endif()
  include(${CMAKE_CURRENT_LIST_DIR}/${dir}/transport.cmake)
endforeach()

string(REPLACE ";" " \\\n" FP_TRANSPORT_CATALOG_ROWS "${FP_TRANSPORT_CATALOG_ROWS}")
set(FP_TRANSPORT_CATALOG_PLATFORM ${CMAKE_SYSTEM_NAME})
set(FP_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)
configure_file(${CMAKE_CURRENT_LIST_DIR}/transport_catalog_rows.h.in
  ${FP_GENERATED_DIR}/transport_catalog_rows.h @ONLY)
target_include_directories(fastport_objects PRIVATE ${FP_GENERATED_DIR})
