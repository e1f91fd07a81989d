# Read on every platform (transports/catalog.cmake): what uring.so is, for
# a user who asks for it where it is not built.
fp_declare_transport(uring PLATFORM Linux SUMMARY "io_uring")
