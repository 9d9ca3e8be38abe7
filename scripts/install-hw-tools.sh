#!/usr/bin/env bash
# Install the open hardware tools kiln's RTL tests use, when they are missing:
# verilator (`kiln rtlsim`), yosys (`kiln synth`) and iverilog (Verilog checks), from the
# distribution's packages with apt-get, non-interactively. `apt-get update` runs only
# when the install fails without it (a fresh image's package lists may be stale or empty).
#
#   scripts/install-hw-tools.sh          # from .ci/run
#
# Never fails: without apt-get, or without root and passwordless sudo, or when the
# install fails, it warns on stderr and exits 0; the tests that need a missing tool then
# say so and skip. KILN_HW_TOOLS overrides the list of tools ("verilator yosys iverilog";
# each tool's package has the same name on Debian and Ubuntu).
set -uo pipefail

log() { printf 'install-hw-tools: %s\n' "$*" >&2; }

tools=(${KILN_HW_TOOLS:-verilator yosys iverilog})
missing=()
for t in "${tools[@]}"; do
  command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done

report() {
  for t in "${tools[@]}"; do
    if command -v "$t" >/dev/null 2>&1; then
      case "$t" in
        iverilog) v=$(iverilog -V 2>/dev/null | head -n 1) ;;
        *) v=$("$t" --version 2>/dev/null | head -n 1) ;;
      esac
      log "$t: ${v:-present}"
    else
      log "warning: $t is not installed; the tests that need it will say so and skip"
    fi
  done
}

if [[ ${#missing[@]} -eq 0 ]]; then
  report
  exit 0
fi
log "missing: ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
  log "warning: apt-get is not available: install ${missing[*]} with the system's package manager"
  report
  exit 0
fi

sudo_cmd=""
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd="sudo -n"
  else
    log "warning: not root and no passwordless sudo: cannot apt-get install ${missing[*]}"
    report
    exit 0
  fi
fi

apt_install() {
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

if ! apt_install; then
  log "apt-get install failed; updating the package lists and trying again"
  if ! { $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 && apt_install; }; then
    log "warning: could not install ${missing[*]} with apt-get"
  fi
fi
report
exit 0
