# The programs' shared command-line parser (apps/common): every type, every
# refusal word for word, the defaults and the generated help. Portable, so
# the Windows build runs it under Wine too.
fp_add_check_test(check_cli
  SOURCES check_cli.c
  LIBS fp_cli)
