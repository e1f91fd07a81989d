#!/usr/bin/env bash
# Every FastPort library exports only fp_-prefixed symbols: libfastport its
# API, each transport and plugin its single entry symbol. ELF (.so) and PE
# (.dll, from the mingw-w64 build) alike.
set -euo pipefail
shopt -s nullglob # a build may have no transport for its platform yet
build=${1:?usage: exported_symbols.sh BUILD_DIR}
fail=0

if compgen -G "$build/bin/*.dll" >/dev/null; then
    ext=dll libfastport="$build/bin/libfastport.dll"
    objdump=$(command -v x86_64-w64-mingw32-objdump || command -v objdump)
else
    ext=so libfastport="$build/lib/libfastport.so"
fi

# A DLL's export table: the lines after "[Ordinal/Name Pointer] Table".
exported() {
    if [ "$ext" = dll ]; then
        "$objdump" -p "$1" | awk '/\[Ordinal\/Name Pointer\] Table/ {t = 1; next} t && NF == 0 {t = 0} t {print $NF}' | sort
    else
        nm -D --defined-only "$1" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort
    fi
}

check_only() {
    local lib=$1 allowed=$2 sym
    [ -f "$lib" ] || { echo "missing $lib"; fail=1; return; }
    while read -r sym; do
        [ -z "$sym" ] && continue
        if ! [[ $sym =~ $allowed ]]; then
            echo "FAIL: $lib exports '$sym' (allowed: $allowed)"
            fail=1
        fi
    done < <(exported "$lib")
}

check_only "$libfastport" '^fp_[a-z0-9_]+$'
exported "$libfastport" | grep -qx fp_engine_create || { echo "FAIL: $libfastport lacks fp_engine_create"; fail=1; }
for t in "$build"/lib/fastport/transports/*."$ext"; do check_only "$t" '^fp_transport_entry$'; done
for p in "$build"/lib/fastport/plugins/*."$ext"; do check_only "$p" '^fp_plugin_entry$'; done

# and the entry symbols are really there
for t in "$build"/lib/fastport/transports/*."$ext"; do
    exported "$t" | grep -qx fp_transport_entry || { echo "FAIL: $t lacks fp_transport_entry"; fail=1; }
done
for p in "$build"/lib/fastport/plugins/*."$ext"; do
    exported "$p" | grep -qx fp_plugin_entry || { echo "FAIL: $p lacks fp_plugin_entry"; fail=1; }
done
[ $fail -eq 0 ] && echo "exported symbols: ok"
exit $fail
