#!/usr/bin/env bash
# The transport core must stay portable C11 so iocp.dll and rio.dll can be
# built on it: its files include only standard C headers (and their own),
# and each compiles with mingw-w64 as well as gcc.
#   core_portable.sh SOURCE_DIR SDK_INCLUDE_DIR FILE...
# Exit 77 (skip) when x86_64-w64-mingw32-gcc is not installed, after the
# include check has passed.
set -euo pipefail
dir="$1"
sdk="$2"
shift 2
standard=' assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h sanitizer/asan_interface.h '
status=0
headers=()
for f in "$@"; do
    headers+=("${dir}/${f}")
    for h in $(grep -oE '#include "[^"]+"' "${dir}/${f}" | sed -E 's/#include "(.*)"/\1/'); do
        [[ -f "${dir}/${h}" ]] && headers+=("${dir}/${h}")
    done
done
for f in $(printf '%s\n' "${headers[@]}" | sort -u); do
    while read -r h; do
        [[ -z "${h}" ]] && continue
        if [[ "${standard}" != *" ${h} "* ]]; then
            echo "FAIL: ${f} includes <${h}>, which is not a standard C header" >&2
            status=1
        fi
    done < <(grep -oE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<[^>]+>' "${f}" | sed -E 's/.*<(.*)>/\1/')
done
((status == 0)) || exit 1
echo "include check: $(printf '%s\n' "${headers[@]}" | sort -u | wc -l) files include standard C headers only"

cc=x86_64-w64-mingw32-gcc
if ! command -v "${cc}" >/dev/null; then
    echo "SKIP: ${cc} not installed (apt-get install gcc-mingw-w64-x86-64-posix)"
    exit 77
fi
out="$(mktemp -d)"
trap 'rm -rf "${out}"' EXIT
for f in "$@"; do
    if ! "${cc}" -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -I"${dir}" -I"${sdk}" \
        -c "${dir}/${f}" -o "${out}/${f%.c}.o"; then
        echo "FAIL: ${f} does not compile with ${cc}" >&2
        status=1
    fi
done
((status == 0)) || exit 1
echo "${cc}: $# core files compile"
