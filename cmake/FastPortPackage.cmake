# find_package(FastPort) and pkg-config for plugins built out of tree.
include(CMakePackageConfigHelpers)
set(FP_CMAKE_DIR ${FP_INSTALL_LIBDIR}/cmake/FastPort)
install(EXPORT FastPortTargets NAMESPACE fastport:: DESTINATION ${FP_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/FastPortConfig.cmake.in
  ${CMAKE_BINARY_DIR}/FastPortConfig.cmake INSTALL_DESTINATION ${FP_CMAKE_DIR}
  PATH_VARS FP_PLUGIN_SUBDIR FP_TRANSPORT_SUBDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/FastPortConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/FastPortConfig.cmake ${CMAKE_BINARY_DIR}/FastPortConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FastPortModules.cmake DESTINATION ${FP_CMAKE_DIR})

configure_file(${PROJECT_SOURCE_DIR}/cmake/fastport-sdk.pc.in ${CMAKE_BINARY_DIR}/fastport-sdk.pc @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/fastport.pc.in ${CMAKE_BINARY_DIR}/fastport.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/fastport-sdk.pc ${CMAKE_BINARY_DIR}/fastport.pc
  DESTINATION ${FP_INSTALL_LIBDIR}/pkgconfig)
