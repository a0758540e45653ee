#!/usr/bin/env bash
# Calibration shim: speaks the subset of coffre's CLI that scripts/bench.sh uses, and runs restic underneath.
#
#   BENCH_COFFRE=scripts/bench/restic-as-coffre.sh scripts/bench.sh
#
# Uses: (1) a harness self-test while coffre's own commands are not there yet (every coffre row is then filled,
# ratios are computed, restores are diffed); (2) a noise floor: the "coffre/restic" ratios of this run compare
# restic with itself, so their distance from 1.00x is what this VM's noise alone produces.
# Fault injection for testing the harness: SHIM_FAIL=<command> makes that command fail with a "coffre: ..." error,
# SHIM_CORRUPT=1 damages one restored file (the bench must then report a RESTORE MISMATCH and exit 3).
set -euo pipefail
cmd=${1:?usage: restic-as-coffre.sh init|backup|restore|check [options]}
shift
repo="" pw="" state="" target="" pos=()
while (($#)); do
  case "$1" in
    --repo) repo=$2; shift 2 ;;
    --password-file) pw=$2; shift 2 ;;
    --state-dir) state=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --kdf | --kdf-memory | --kdf-passes) shift 2 ;;
    --read-data) shift ;;
    --help) echo "restic-as-coffre.sh $cmd: --repo R --password-file F [--state-dir S] [--target DIR] [--read-data]"; exit 0 ;;
    -*) echo "coffre: restic-as-coffre.sh does not know the option $1" >&2; exit 2 ;;
    *) pos+=("$1"); shift ;;
  esac
done
[[ -n "$repo" && -n "$pw" ]] || { echo "coffre: --repo and --password-file are required" >&2; exit 2; }
[[ "$(stat -c %a "$pw")" == 600 ]] || { echo "coffre: password file $pw must be mode 0600" >&2; exit 2; }
[[ "${SHIM_FAIL:-}" != "$cmd" ]] || { echo "coffre: $cmd failed (injected by SHIM_FAIL)" >&2; exit 1; }
export RESTIC_PASSWORD_FILE=$pw
R=(restic -r "$repo")
[[ "$repo" != s3:* ]] || R+=(-o s3.bucket-lookup=path)
[[ -z "$state" ]] || R+=(--cache-dir "$state")
case "$cmd" in
  init) exec "${R[@]}" init --repository-version 2 ;;
  backup) exec "${R[@]}" backup --compression auto "${pos[@]}" ;;
  restore)
    "${R[@]}" restore "${pos[0]:-latest}" --target "$target"
    if [[ -n "${SHIM_CORRUPT:-}" ]]; then f=$(find "$target" -type f -name '*.csv' -print -quit); echo corrupted >>"$f"; fi ;;
  check) exec "${R[@]}" check --read-data ;;
  *) echo "coffre: restic-as-coffre.sh does not implement '$cmd'" >&2; exit 2 ;;
esac
