# Read on every platform (transports/catalog.cmake): what rio.dll is, for
# a user who asks for it where it is not built.
fp_declare_transport(rio PLATFORM Windows SUMMARY "Registered I/O")
