# fp_add_transport(NAME SOURCES...) -> <build>/lib/fastport/transports/NAME.so
# fp_add_plugin(NAME SOURCES...)    -> <build>/lib/fastport/plugins/NAME.so
# Modules link against nothing of ours: the SDK is headers only.
function(fp_add_module kind subdir name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE fastport::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/${subdir}
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/${subdir})
  if(NOT WIN32)
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
  install(TARGETS ${name} LIBRARY DESTINATION ${subdir} RUNTIME DESTINATION ${subdir})
  set_property(GLOBAL APPEND PROPERTY FP_${kind}_TARGETS ${name})
endfunction()

function(fp_add_transport name)
  fp_add_module(TRANSPORT ${FP_TRANSPORT_SUBDIR} ${name} ${ARGN})
endfunction()

function(fp_add_plugin name)
  fp_add_module(PLUGIN ${FP_PLUGIN_SUBDIR} ${name} ${ARGN})
endfunction()
