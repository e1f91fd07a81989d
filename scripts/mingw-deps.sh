#!/usr/bin/env bash
# Cross-builds the test dependencies of the Windows build (preset "mingw"):
# Check and the protobuf-c runtime library, as static libraries for
# x86_64-w64-mingw32 (x86_64-w64-mingw32-gcc-posix), from Debian's own
# source packages (apt-get source; nothing is fetched from anywhere else).
#
#   prefix:  $FP_MINGW_DEPS_PREFIX, default build-mingw-deps/prefix
#            lib/libcheck.a, include/check.h, lib/pkgconfig/check.pc,
#            lib/libprotobuf-c.a, include/protobuf-c/protobuf-c.h,
#            lib/pkgconfig/libprotobuf-c.pc
#   work:    build-mingw-deps/{src,build,log}
#
# Runs as root in CI (falls back to sudo for apt otherwise). Missing packages
# are installed with apt-get; a deb-src entry for the Debian suites already
# configured is added (/etc/apt/sources.list.d/fastport-deb-src.*) when there
# is none. A stamp in the prefix records the source versions: when it matches,
# the script exits at once, without apt. FP_MINGW_DEPS_JOBS=N: make -jN (2).
#
# Check is built with autotools, without fork (Windows has none: every test
# runs in the runner's own process, CK_FORK is ignored and so are timeouts).
# One local change to check.h: on mingw its printf format attribute is
# gnu_printf, since Check formats messages with its own C99 vsnprintf;
# GCC's default for mingw, ms_printf, rejects %jd in ck_assert_int_eq under
# -Wformat -Werror. protobuf-c is configured with --disable-protoc (the host's
# protoc-c generates the code).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${repo}/build-mingw-deps"
prefix="${FP_MINGW_DEPS_PREFIX:-${work}/prefix}"
prefix="$(realpath -m "${prefix}")"
jobs="${FP_MINGW_DEPS_JOBS:-2}"
host=x86_64-w64-mingw32
cc="${host}-gcc-posix"
stamp="${prefix}/fastport-mingw-deps.stamp"
packages=(dpkg-dev make pkg-config gcc-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev)
srcpkgs=(check protobuf-c)
src_list=/etc/apt/sources.list.d/fastport-deb-src

say() { echo "mingw deps: $*"; }
die() { echo "mingw deps: $*" >&2; exit 1; }

as_root=()
apt_opts=(-q -o Dpkg::Use-Pty=0)
if [[ "$(id -u)" != 0 ]]; then
    as_root=(sudo)
else
    # apt-get source downloads into a root-owned folder: no _apt sandbox.
    apt_opts+=(-o APT::Sandbox::User=root)
fi

# run LOG CMD...: CMD's output goes to log/LOG.log; on failure, its tail.
run() {
    local log="${work}/log/$1.log"
    shift
    if ! "$@" >"${log}" 2>&1; then
        echo "mingw deps: failed: $*" >&2
        echo "---- last lines of ${log}:" >&2
        tail -n 40 "${log}" >&2
        exit 1
    fi
}

# Versions that apt-get source would fetch ("check=0.15.2-2"), from the
# local indexes only; fails when no deb-src index is there.
source_versions() {
    local uris
    uris="$(apt-get "${apt_opts[@]}" source --print-uris "${srcpkgs[@]}" 2>/dev/null)" || return 1
    local p v
    for p in "${srcpkgs[@]}"; do
        v="$(sed -n "s/^'[^']*' ${p}_\([^ ]*\)\.dsc .*/\1/p" <<<"${uris}" | head -n 1)"
        [[ -n "${v}" ]] || return 1
        echo "${p}=${v}"
    done
}

recipe="$(sha256sum "$0" | cut -d' ' -f1)"
compiler="$(command -v "${cc}" >/dev/null && "${cc}" -dumpversion || echo none)"

# The stamp: source versions, compiler, this script. Fast path when it matches.
stamp_matches() {
    local want="$1" f
    [[ -f "${stamp}" ]] || return 1
    for f in lib/libcheck.a include/check.h lib/pkgconfig/check.pc \
             lib/libprotobuf-c.a include/protobuf-c/protobuf-c.h lib/pkgconfig/libprotobuf-c.pc; do
        [[ -f "${prefix}/${f}" ]] || return 1
    done
    grep -qx "recipe ${recipe}" "${stamp}" && grep -qx "compiler ${cc} ${compiler}" "${stamp}" || return 1
    # Without deb-src indexes (apt lists cleaned) the stamp's versions stand.
    [[ -z "${want}" ]] || [[ "$(grep '^source ' "${stamp}" | cut -d' ' -f2 | paste -sd' ')" == "$(paste -sd' ' <<<"${want}")" ]]
}

stamp_line() {
    local c p
    c="$(sed -n 's/^source check=//p' "${stamp}")"
    p="$(sed -n 's/^source protobuf-c=//p' "${stamp}")"
    say "check ${c}, protobuf-c ${p} in ${prefix}"
}

want="$(source_versions || true)"
if stamp_matches "${want}"; then
    stamp_line
    exit 0
fi

# One build at a time per work folder (the stamp is checked again below).
mkdir -p "${work}/log"
exec 9>"${work}/.lock"
flock 9

# ---- apt: packages and a deb-src entry ------------------------------------

codename="$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"')"
[[ -n "${codename}" ]] || die "no VERSION_CODENAME in /etc/os-release (Debian expected)"
suite_re="^${codename}([-/].*)?\$"

# Debian entries of type $1 (deb or deb-src) from the one-line .list files.
list_entries() {
    local type="$1" f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "${f}" ]] || continue
        awk -v type="${type}" -v re="${suite_re}" '
            { line = $0; sub(/#.*/, ""); gsub(/\[[^]]*\]/, "") }
            $1 == type && $3 ~ re { print line }' "${f}"
    done
}

# Debian stanzas of type $1 from the deb822 .sources files, as deb-src stanzas.
sources_entries() {
    local type="$1" f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "${f}" ]] || continue
        awk -v type="${type}" -v re="${suite_re}" '
            function flush(   i, n, t, s, ok, out) {
                if (nl == 0) return
                ok = 0
                n = split(types, t, /[ \t]+/)
                for (i = 1; i <= n; i++) if (t[i] == type) ok = 1
                if (tolower(enabled) == "no") ok = 0
                if (ok) {
                    ok = 0
                    n = split(suites, s, /[ \t]+/)
                    for (i = 1; i <= n; i++) if (s[i] ~ re) ok = 1
                }
                if (ok) {
                    for (i = 1; i <= nl; i++) {
                        out = lines[i]
                        if (out ~ /^[Tt]ypes:/) out = "Types: deb-src"
                        print out
                    }
                    print ""
                }
                nl = 0; types = ""; suites = ""; enabled = ""
            }
            /^#/ { next }
            /^[ \t]*$/ { flush(); next }
            { lines[++nl] = $0 }
            /^[Tt]ypes:/ { types = $0; sub(/^[^:]*:[ \t]*/, "", types) }
            /^[Ss]uites:/ { suites = $0; sub(/^[^:]*:[ \t]*/, "", suites) }
            /^[Ee]nabled:/ { enabled = $0; sub(/^[^:]*:[ \t]*/, "", enabled) }
            END { flush() }' "${f}"
    done
}

added_src=0
if [[ -z "$(list_entries deb-src)$(sources_entries deb-src)" ]]; then
    stanzas="$(sources_entries deb)"
    lines="$(list_entries deb | sed -E 's/^[[:space:]]*deb([[:space:]])/deb-src\1/')"
    rm -f "${src_list}.sources" "${src_list}.list"
    if [[ -n "${stanzas}" ]]; then
        printf '# Added by FastPort scripts/mingw-deps.sh (apt-get source).\n%s\n' "${stanzas}" |
            "${as_root[@]}" tee "${src_list}.sources" >/dev/null
    fi
    if [[ -n "${lines}" ]]; then
        printf '# Added by FastPort scripts/mingw-deps.sh (apt-get source).\n%s\n' "${lines}" |
            "${as_root[@]}" tee "${src_list}.list" >/dev/null
    fi
    if [[ -z "${stanzas}${lines}" ]]; then
        printf '%s\n' "# Added by FastPort scripts/mingw-deps.sh (apt-get source)." \
            "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${codename} main" |
            "${as_root[@]}" tee "${src_list}.list" >/dev/null
    fi
    for f in "${src_list}".*; do say "added ${f}"; done
    added_src=1
fi

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("${pkg}")
    fi
done

apt_update() {
    run apt-update "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update
}
updated=0
if ((added_src || ${#missing[@]} > 0)) || [[ -z "${want}" ]]; then
    apt_update
    updated=1
fi
if ((${#missing[@]} > 0)); then
    say "installing ${missing[*]}"
    run apt-install "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
fi
command -v "${cc}" >/dev/null || die "${cc} not found after installing ${packages[*]}"
compiler="$("${cc}" -dumpversion)"

want="$(source_versions)" || die "apt-get source --print-uris ${srcpkgs[*]} fails (no deb-src index?), see: apt-get source --print-uris ${srcpkgs[*]}"
if stamp_matches "${want}"; then
    stamp_line
    exit 0
fi

# ---- sources ----------------------------------------------------------------

ver() { sed -n "s/^$1=//p" <<<"${want}"; }
check_ver="$(ver check)"
pbc_ver="$(ver protobuf-c)"
say "building check ${check_ver}, protobuf-c ${pbc_ver} (logs: ${work}/log)"

mkdir -p "${work}/src"
rm -rf "${work}/build" "${work}/src/check-"*/ "${work}/src/protobuf-c-"*/
# Downloads already in src/ are reused when their checksums match.
get_sources() {
    (cd "${work}/src" && apt-get "${apt_opts[@]}" source "check=${check_ver}" "protobuf-c=${pbc_ver}")
}
if ! get_sources >"${work}/log/apt-source.log" 2>&1; then
    # Stale indexes may name files the mirror no longer has: update, retry.
    if ((!updated)); then
        apt_update
        want="$(source_versions)" || die "no deb-src index after apt-get update"
        check_ver="$(ver check)"
        pbc_ver="$(ver protobuf-c)"
    fi
    run apt-source get_sources
fi
upstream() { local v="${1#*:}"; echo "${v%-*}"; }
check_src="${work}/src/check-$(upstream "${check_ver}")"
pbc_src="${work}/src/protobuf-c-$(upstream "${pbc_ver}")"
[[ -f "${check_src}/configure" ]] || die "no ${check_src}/configure after apt-get source"
[[ -f "${pbc_src}/configure" ]] || die "no ${pbc_src}/configure after apt-get source"

# ---- install ------------------------------------------------------------------

rm -f "${stamp}"
mkdir -p "${prefix}/lib/pkgconfig" "${prefix}/include"
rm -f "${prefix}/lib/libcheck."* "${prefix}/include/check.h" "${prefix}/include/check_stdint.h" \
      "${prefix}/lib/pkgconfig/check.pc" "${prefix}/lib/libprotobuf-c."* "${prefix}/lib/pkgconfig/libprotobuf-c.pc"
rm -rf "${prefix}/include/protobuf-c" "${prefix}/include/google/protobuf-c"

in_dir() { local d="$1"; shift; (cd "${d}" && "$@"); }
cross=(--host="${host}" --prefix="${prefix}" --disable-shared --enable-static
       --disable-dependency-tracking CC="${cc}" CFLAGS="-O2 -g")

# ---- Check --------------------------------------------------------------------

# check.h: gnu_printf (not GCC's ms_printf) format checking on mingw.
for h in "${check_src}/src/check.h.in" "${check_src}/src/check.h"; do
    [[ -f "${h}" ]] || continue
    sed -i 's|^#define CK_ATTRIBUTE_FORMAT(a, b, c) __attribute__ ((format (a, b, c)))$|#if defined(__MINGW32__)\n/* mingw: Check formats messages with its own C99 vsnprintf, not msvcrt (FastPort scripts/mingw-deps.sh) */\n#define CK_ATTRIBUTE_FORMAT(a, b, c) __attribute__ ((format (gnu_##a, b, c)))\n#else\n&\n#endif|' "${h}"
    grep -q 'format (gnu_##a, b, c)' "${h}" || die "cannot patch CK_ATTRIBUTE_FORMAT in ${h}"
done

b="${work}/build/check"
mkdir -p "${b}"
# Only lib/ (portability replacements) and src/ (libcheck): no docs, no
# checkmk, no tests, so no texinfo and no autotools run.
run check-configure in_dir "${b}" "${check_src}/configure" "${cross[@]}" \
    --disable-fork --disable-subunit --disable-build-docs --disable-timeout-tests \
    --disable-gcov --enable-snprintf-replacement
grep -qx 'HAVE_FORK = 0' "${b}/Makefile" || die "check's configure found fork() for ${host}?"
run check-make-lib make -C "${b}/lib" -j"${jobs}"
run check-make-src make -C "${b}/src" -j"${jobs}"
run check-install make -C "${b}/src" install-libLTLIBRARIES install-includeHEADERS
install -m 644 "${b}/check_stdint.h" "${prefix}/include/check_stdint.h"
rm -f "${prefix}/lib/libcheck.la"
# Debian's check.pc.in names libcheck_pic; this one is for static mingw
# links. No -lpthread: gcc-posix always links winpthread, and a -lpthread
# here would make CMake's pkg_check_modules pick libpthread.dll.a.
cat >"${prefix}/lib/pkgconfig/check.pc" <<EOF
prefix=${prefix}
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: Check
Description: A unit test framework for C (static, ${host}, no fork; Debian source ${check_ver})
URL: https://libcheck.github.io/check/
Version: $(upstream "${check_ver}")
Libs: -L\${libdir} -lcheck
Cflags: -I\${includedir}
EOF

# ---- protobuf-c (runtime library only) ------------------------------------------

b="${work}/build/protobuf-c"
mkdir -p "${b}"
run protobuf-c-configure in_dir "${b}" "${pbc_src}/configure" "${cross[@]}" \
    --disable-protoc
run protobuf-c-make make -C "${b}" -j"${jobs}"
run protobuf-c-install make -C "${b}" install
rm -f "${prefix}/lib/libprotobuf-c.la"

for f in lib/libcheck.a include/check.h lib/pkgconfig/check.pc \
         lib/libprotobuf-c.a include/protobuf-c/protobuf-c.h lib/pkgconfig/libprotobuf-c.pc; do
    [[ -f "${prefix}/${f}" ]] || die "${prefix}/${f} missing after the build"
done

{
    echo "# scripts/mingw-deps.sh: Debian sources built for ${host}"
    echo "source check=${check_ver}"
    echo "source protobuf-c=${pbc_ver}"
    echo "compiler ${cc} ${compiler}"
    echo "recipe ${recipe}"
} >"${stamp}"
stamp_line
