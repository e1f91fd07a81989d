# Read on every platform (transports/catalog.cmake): what epoll.so is, for
# a user who asks for it where it is not built.
fp_declare_transport(epoll PLATFORM Linux SUMMARY "epoll")
