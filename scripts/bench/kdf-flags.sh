#!/usr/bin/env bash
# Prints the `coffre init` flags that give coffre's key file the same key-derivation cost as
# restic's, one flag per line, for bench.sh and bench-memory.sh (docs/benchmarks.md, "Key
# derivation").
#
#   scripts/bench/kdf-flags.sh SCRATCH_DIR COFFRE_CMD...
#
# BENCH_KDF [matched]: `matched` = the memory and passes restic's own `init` picks on this
# machine (it calibrates scrypt: memory = 128 * N * r bytes, run p times), read from the key
# file of a throwaway restic repository in SCRATCH_DIR; any other value is a coffre profile
# name (`interactive` = 64 MiB, 2 passes). Without restic, or with a coffre that has no such
# flags, it falls back to `--kdf interactive`, and says so on stderr.
set -euo pipefail
scratch=$1
shift
help=$("$@" init --help </dev/null 2>&1 || true)
want=${BENCH_KDF:-matched}
grep -q -- '--kdf' <<<"$help" || exit 0
if [[ "$want" != matched ]]; then
  printf '%s\n' --kdf "$want"
  exit 0
fi
fallback() {
  printf 'kdf-flags: %s; coffre uses --kdf interactive\n' "$1" >&2
  printf '%s\n' --kdf interactive
  exit 0
}
grep -q -- '--kdf-memory' <<<"$help" || fallback "this coffre has no --kdf-memory"
command -v restic >/dev/null || fallback "restic is not installed"
repo="$scratch/kdf-probe-$$"
rm -rf "$repo"
RESTIC_PASSWORD=probe restic init --quiet --repo "$repo" >/dev/null 2>&1 || fallback "restic init failed"
# N, r and p from restic's key file (JSON, one key)
read -r n r p < <(node -e '
  const k = JSON.parse(require("fs").readFileSync(require("fs").readdirSync(process.argv[1]).map((f) => process.argv[1] + "/" + f)[0]));
  console.log(k.N, k.r, k.p);' "$repo/keys")
rm -rf "$repo"
mib=$((128 * n * r / 1048576))
# coffre's floor (OWASP): at least 19 MiB, and two passes below 46 MiB
((mib >= 19)) || mib=19
((p >= 2 || mib >= 46)) || p=2
printf '%s\n' --kdf-memory "$mib" --kdf-passes "$p"
