# The transport catalog (transports/catalog.cmake): another platform's
# transport is refused naming its platform and this build's transports.
# Portable, so the Windows build runs it under Wine too.
fp_add_check_test(check_transport_catalog SOURCES check_transport_catalog.c LIBS fastport_core)
# What "on this machine" lists is what the build put in its transport dir.
get_property(fp_catalog_transports GLOBAL PROPERTY FP_TRANSPORT_TARGETS)
if(fp_catalog_transports)
  add_dependencies(check_transport_catalog ${fp_catalog_transports})
endif()
