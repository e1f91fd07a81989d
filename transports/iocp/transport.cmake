# Read on every platform (transports/catalog.cmake): what iocp.dll is, for
# a user who asks for it where it is not built.
fp_declare_transport(iocp PLATFORM Windows SUMMARY "I/O completion ports")
