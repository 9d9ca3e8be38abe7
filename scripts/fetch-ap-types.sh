#!/usr/bin/env bash
# Fetch the Xilinx ap_types headers (ap_fixed.h, ap_int.h, ...) as shipped in
# the hls4ml 1.3.0 wheel on PyPI, and print the include directory on stdout.
#
#   dir=$(scripts/fetch-ap-types.sh)   # -> <cache>/ap_types, contains ap_fixed.h
#
# Cache: ${KILN_CACHE_DIR:-$HOME/.cache/kiln}/ap_types/hls4ml-1.3.0/
# If KILN_AP_TYPES is set and contains ap_fixed.h, it is printed as is.
# Only the include path goes to stdout; progress and errors go to stderr.
# Needs: pip (python3 -m pip, pip3 or pip) and python3 (zipfile, no unzip).
set -euo pipefail

HLS4ML_VERSION=1.3.0
MEMBER_PREFIX=hls4ml/templates/vivado/ap_types/

log() { printf 'fetch-ap-types: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ -n "${KILN_AP_TYPES:-}" ]]; then
  if [[ -f "${KILN_AP_TYPES}/ap_fixed.h" ]]; then
    printf '%s\n' "${KILN_AP_TYPES}"
    exit 0
  fi
  log "KILN_AP_TYPES=${KILN_AP_TYPES} has no ap_fixed.h; fetching instead"
fi

cache_root="${KILN_CACHE_DIR:-${HOME:?HOME is not set}/.cache/kiln}"
cache="${cache_root}/ap_types/hls4ml-${HLS4ML_VERSION}"
inc="${cache}/ap_types"

if [[ -f "${inc}/ap_fixed.h" && -f "${inc}/etc/ap_private.h" ]]; then
  printf '%s\n' "${inc}"
  exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 is required (for pip and zipfile)"

pip_cmd=()
if python3 -m pip --version >/dev/null 2>&1; then
  pip_cmd=(python3 -m pip)
elif command -v pip3 >/dev/null 2>&1; then
  pip_cmd=(pip3)
elif command -v pip >/dev/null 2>&1; then
  pip_cmd=(pip)
else
  die "pip is required (tried 'python3 -m pip', pip3, pip); install python3-pip"
fi

mkdir -p "${cache}"
dl="${cache}/download"
mkdir -p "${dl}"

wheel=$(find "${dl}" -maxdepth 1 -name "hls4ml-${HLS4ML_VERSION}-*.whl" -print -quit)
if [[ -z "${wheel}" ]]; then
  log "downloading hls4ml==${HLS4ML_VERSION} wheel with ${pip_cmd[*]} into ${dl}"
  "${pip_cmd[@]}" download --no-deps --only-binary=:all: --disable-pip-version-check \
    --dest "${dl}" "hls4ml==${HLS4ML_VERSION}" 1>&2 \
    || die "pip download of hls4ml==${HLS4ML_VERSION} failed"
  wheel=$(find "${dl}" -maxdepth 1 -name "hls4ml-${HLS4ML_VERSION}-*.whl" -print -quit)
  [[ -n "${wheel}" ]] || die "pip did not produce an hls4ml-${HLS4ML_VERSION} wheel in ${dl}"
fi

log "extracting ${MEMBER_PREFIX}* from $(basename "${wheel}")"
tmp=$(mktemp -d "${cache}/extract.XXXXXX")
trap 'rm -rf "${tmp}"' EXIT
python3 - "${wheel}" "${MEMBER_PREFIX}" "${tmp}/ap_types" <<'PY' || die "extracting headers from the wheel failed"
import os, sys, zipfile
wheel, prefix, dest = sys.argv[1:4]
n = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        rel = name[len(prefix):]
        if rel.startswith("/") or ".." in rel.split("/"):
            sys.exit("refusing suspicious member name: " + name)
        out = os.path.join(dest, *rel.split("/"))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            dst.write(src.read())
        n += 1
if n == 0 or not os.path.isfile(os.path.join(dest, "ap_fixed.h")):
    sys.exit("no " + prefix + "ap_fixed.h in " + wheel)
print("fetch-ap-types: extracted %d files" % n, file=sys.stderr)
PY

rm -rf "${inc}"
mv "${tmp}/ap_types" "${inc}"
printf '%s\n' "${inc}"
