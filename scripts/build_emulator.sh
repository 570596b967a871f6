#!/usr/bin/env bash
# Build the PixeLINK SDK emulator (every emulator/*.c except stress.c) as libPxLApi.so for the unmodified
# pixelinkWrapper.
#
#   scripts/build_emulator.sh [OUTDIR]        (default OUTDIR: <repo>/build/emulator)
#   eval "$(scripts/build_emulator.sh)"       # then run the service on the real driver path, no hardware
#
# OUTDIR receives libPxLApi.so.<VERSION> (SONAME libPxLApi.so; the only file matching the wrapper's
# version probe `find $PIXELINK_SDK_LIB -name 'libPxLApi*.so.*'`) and a symlink libPxLApi.so -> it.
# Rebuilds only when a source, the emulator folder (a file added or removed) or this script is newer than
# the library.  stdout carries only the `export` lines to eval; progress and errors go to stderr.
set -euo pipefail

VERSION=4.2.2.11 # component-wise >= the wrapper's Linux minimum 4.2.2.11: no warning at import
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SRC_DIR="$ROOT/emulator"
OUTDIR="${1:-$ROOT/build/emulator}"
CC="${CC:-gcc}"
CFLAGS=(-std=c11 -Wall -Wextra -O2 -fPIC -fvisibility=hidden -pthread)
LDFLAGS=(-shared -Wl,-soname,libPxLApi.so -Wl,-z,now -Wl,-z,defs)

log() { printf 'build_emulator: %s\n' "$*" >&2; }

mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd -P)" # absolute and without symlinks (find does not descend a symlink)
case "$OUTDIR" in
*[[:space:]]*) log "warning: '$OUTDIR' contains whitespace; the wrapper's version probe (find \$PIXELINK_SDK_LIB) will fail" ;;
esac

LIB="$OUTDIR/libPxLApi.so.$VERSION"
lib_sources=() # the library: every .c file of the emulator except stress.c (a separate test program)
for s in "$SRC_DIR"/*.c; do
    [[ "${s##*/}" == stress.c ]] || lib_sources+=("$s")
done
sources=("${lib_sources[@]}" "$SRC_DIR"/*.h "$SRC_DIR" "${BASH_SOURCE[0]}")

need_build=0
if [[ ! -f "$LIB" ]]; then
    need_build=1
else
    for s in "${sources[@]}"; do
        if [[ "$s" -nt "$LIB" ]]; then
            need_build=1
            break
        fi
    done
fi

if ((need_build)); then
    log "compiling ${#lib_sources[@]} sources in $SRC_DIR -> $LIB"
    tmp="$OUTDIR/.pxlemu-build.$$.tmp" # name must not match libPxLApi*.so.*
    trap 'rm -f "$tmp"' EXIT
    "$CC" "${CFLAGS[@]}" "${LDFLAGS[@]}" -o "$tmp" "${lib_sources[@]}"
    mv -f "$tmp" "$LIB" # atomic: concurrent builders and loaders never see a partial file
    trap - EXIT
else
    log "up to date: $LIB"
fi

# the unversioned name for dlopen("libPxLApi.so") via LD_LIBRARY_PATH
if [[ "$(readlink "$OUTDIR/libPxLApi.so" 2>/dev/null || true)" != "libPxLApi.so.$VERSION" ]]; then
    ln -sfn "libPxLApi.so.$VERSION" "$OUTDIR/.libPxLApi.so.link.$$"
    mv -fT "$OUTDIR/.libPxLApi.so.link.$$" "$OUTDIR/libPxLApi.so"
fi

# exactly one file may match the wrapper's probe, or it reads a wrong version
for f in "$OUTDIR"/libPxLApi*.so.*; do
    if [[ -e "$f" && "$f" != "$LIB" ]]; then
        log "removing stale $f"
        rm -f "$f"
    fi
done
matches="$(find "$OUTDIR" -name 'libPxLApi*.so.*' | wc -l)"
if [[ "$matches" != 1 ]]; then
    log "error: $matches files under $OUTDIR match 'libPxLApi*.so.*' (need exactly 1):"
    find "$OUTDIR" -name 'libPxLApi*.so.*' >&2
    exit 1
fi

q="$(printf '%q' "$OUTDIR")"
printf 'export LD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\n' "$q"
printf 'export PIXELINK_SDK_LIB=%s\n' "$q"
