#!/usr/bin/env bash
# Every Windows binary of the build loads only DLLs a clean Windows has, or
# libfastport.dll beside it: no compiler runtime (libgcc_s, winpthread) or
# zlib1.dll left for the user to find.
set -euo pipefail
shopt -s nullglob
build=${1:?usage: windows_imports.sh BUILD_DIR}
objdump=$(command -v x86_64-w64-mingw32-objdump || command -v objdump)
system_dlls=' kernel32.dll msvcrt.dll ws2_32.dll mswsock.dll iphlpapi.dll advapi32.dll ntdll.dll '
fail=0 checked=0

for bin in "$build"/bin/*.exe "$build"/bin/*.dll "$build"/lib/fastport/*/*.dll "$build"/tests/*.exe; do
    checked=$((checked + 1))
    while read -r dll; do
        lower=${dll,,}
        [[ "$system_dlls" == *" $lower "* || "$lower" == libfastport.dll ]] && continue
        echo "FAIL: $bin imports $dll, which Windows does not provide"
        fail=1
    done < <("$objdump" -p "$bin" | awk '/DLL Name:/ {print $3}')
done
[ "$checked" -gt 0 ] || { echo "FAIL: no Windows binary in $build"; exit 1; }
[ $fail -eq 0 ] && echo "windows imports: ok ($checked binaries)"
exit $fail
