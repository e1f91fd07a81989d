# Windows builds (mingw-w64, cross or native under MSYS2).

# Windows 8 is the oldest supported: RIO needs it.
add_compile_definitions(_WIN32_WINNT=0x0602 WINVER=0x0602 WIN32_LEAN_AND_MEAN
  # C99 printf (%zu, %llu) rather than msvcrt's.
  __USE_MINGW_ANSI_STDIO=1)

# No runtime DLL of the compiler's to ship beside the programs: libgcc and
# winpthread are linked into each binary, zlib statically.
add_link_options(-static)
set(ZLIB_USE_STATIC_LIBS ON)
