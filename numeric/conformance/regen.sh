#!/usr/bin/env bash
# Regenerate numeric/conformance/data/*.txt from the real Xilinx ap_types
# headers (hls4ml 1.3.0): fetch the headers (cached), then run gen.py.
# Extra arguments are passed to gen.py (e.g. --jobs 4, --keep-build --build-dir DIR).
# Needs: bash, python3 (stdlib), pip (first run only), g++ with C++14.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"

inc="$(bash "${repo}/scripts/fetch-ap-types.sh")"
echo "regen: ap_types headers in ${inc}" >&2
exec python3 "${here}/gen.py" --ap-types "${inc}" --out "${here}/data" "$@"
