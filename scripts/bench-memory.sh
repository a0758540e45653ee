#!/usr/bin/env bash
# Flat memory, checked: peak RSS of a backup of (a) one 5 GiB sparse file and (b) a tree of
# 200,000 small files, for restic and coffre in the same run, against an RSS target.
# Documentation: docs/benchmarks.md, "Memory checks".
#
#   scripts/bench-memory.sh                          # both cases, restic then coffre
#   MEM_CASES=sparse scripts/bench-memory.sh         # only the 5 GiB sparse file
#   MEM_FILES=50000 scripts/bench-memory.sh          # a smaller tree (quicker)
#
# Environment knobs (defaults in brackets):
#   BENCH_DIR [<repo>/.bench]   where the data, repositories and results go (git-ignored)
#   MEM_CASES [sparse tree]     which cases to run
#   MEM_SPARSE_GIB [5]          size of the sparse file; several sizes ("1 5 20") show that the
#                               peak does not grow with the file
#   MEM_FILES [200000]          files in the tree (500 per directory, 80-400 bytes each, all different)
#   MEM_TARGET_MIB              fixed RSS target for coffre; when unset the target is
#                               MEM_TARGET_RATIO x restic's peak in the same case
#   MEM_TARGET_RATIO [1.2]      the issue's target: coffre's peak RSS <= 1.2 x restic's
#   MEM_TOOLS [restic coffre]   which tools (coffre alone needs MEM_TARGET_MIB)
#   MEM_UNCHANGED [1]           1 = also time an unchanged re-backup of each case (catalog path)
#
# Exit status: 0 = every coffre backup stayed under its target; 1 = one went over;
# 2 = usage or environment problem.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { printf 'bench-memory: %s\n' "$*" >&2; exit 2; }
log() { printf '[bench-memory %s] %s\n' "$(date +%T)" "$*" >&2; }

BENCH_DIR=${BENCH_DIR:-$ROOT/.bench}
read -r -a CASES <<<"${MEM_CASES:-sparse tree}"
read -r -a TOOLS <<<"${MEM_TOOLS:-restic coffre}"
read -r -a SPARSE_SIZES <<<"${MEM_SPARSE_GIB:-5}"
MEM_FILES=${MEM_FILES:-200000}
MEM_TARGET_RATIO=${MEM_TARGET_RATIO:-1.2}
MEM_UNCHANGED=${MEM_UNCHANGED:-1}
for g in "${SPARSE_SIZES[@]}"; do [[ "$g" =~ ^[1-9][0-9]*$ ]] || die "MEM_SPARSE_GIB must be positive integers"; done
[[ "$MEM_FILES" =~ ^[1-9][0-9]*$ ]] || die "MEM_FILES must be a positive integer"
[[ -x /usr/bin/time ]] || die "GNU /usr/bin/time is required (apt-get install -y time)"
for t in "${TOOLS[@]}"; do
  case "$t" in restic) command -v restic >/dev/null || die "restic is not installed (apt-get install -y restic)" ;; coffre) ;; *) die "unknown tool '$t'" ;; esac
done
[[ " ${TOOLS[*]} " == *" restic "* || -n "${MEM_TARGET_MIB:-}" ]] || die "without restic, give MEM_TARGET_MIB"

mkdir -p "$BENCH_DIR/results"
PWFILE="$BENCH_DIR/password"
(umask 077 && printf 'bench-passphrase-not-secret\n' >"$PWFILE")
export RESTIC_PASSWORD_FILE="$PWFILE"
(cd "$ROOT" && npm run build >/dev/null) || die "npm run build failed"
COFFRE=("$ROOT/bin/coffre.js") # through its #! line, with the flags the installed command has
mkdir -p "$BENCH_DIR/tmp"
mapfile -t KDF < <("$ROOT/scripts/bench/kdf-flags.sh" "$BENCH_DIR/tmp" "${COFFRE[@]}")

# The floor: node, sodium-native and one Argon2id run at coffre's key-derivation cost here,
# under the launcher's node flags (scripts/bench/kdf-floor.cjs, given coffre init's flags).
# Every coffre command opens a key file first, so no coffre command can peak below it.
FLOOR=–
FLOOR_NOTE="no floor measured (see $BENCH_DIR/tmp/floor.err)"
read -r -a LAUNCHER_FLAGS < <(head -1 "$ROOT/bin/coffre.js" | sed -n 's/^#!.* node //p')
if cost=$(/usr/bin/time -f %M -o "$BENCH_DIR/tmp/floor.time" node "${LAUNCHER_FLAGS[@]}" "$ROOT/scripts/bench/kdf-floor.cjs" "${KDF[@]}" 2>"$BENCH_DIR/tmp/floor.err"); then
  read -r kdf_mib kdf_passes <<<"$cost"
  FLOOR=$(awk '{ printf "%.0f", $1 / 1024 }' "$BENCH_DIR/tmp/floor.time")
  FLOOR_NOTE="Floor: node (${LAUNCHER_FLAGS[*]}), sodium-native and one Argon2id run at coffre's cost here ($kdf_mib MiB, $kdf_passes passes, as \`coffre init ${KDF[*]}\`) peak at **$FLOOR MiB**: no coffre command can peak lower, since each opens a key file first."
fi

# ---------------------------------------------------------------- data
make_sparse() { # GIB
  local dir="$BENCH_DIR/mem-sparse-$1g"
  mkdir -p "$dir"
  local want=$(($1 * 1024 * 1024 * 1024))
  if [[ ! -f "$dir/sparse.bin" || $(stat -c %s "$dir/sparse.bin") != "$want" ]]; then
    rm -f "$dir/sparse.bin"
    truncate -s "$want" "$dir/sparse.bin"
    # a few real bytes at the start, middle and end, so it is not one long run of zeros only
    printf 'coffre sparse head' | dd of="$dir/sparse.bin" conv=notrunc status=none
    printf 'coffre sparse middle' | dd of="$dir/sparse.bin" bs=1 seek=$((want / 2)) conv=notrunc status=none
    printf 'coffre sparse tail' | dd of="$dir/sparse.bin" bs=1 seek=$((want - 18)) conv=notrunc status=none
  fi
  echo "$dir"
}

make_tree() {
  local dir="$BENCH_DIR/mem-tree-$MEM_FILES"
  if [[ ! -f "$dir.done" ]]; then
    rm -rf "$dir"
    log "generating $MEM_FILES small files in $dir"
    node -e '
      const fs = require("node:fs"), path = require("node:path");
      const [dir, n] = [process.argv[1], Number(process.argv[2])];
      let s = 0x9e3779b9;
      const rnd = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
      for (let i = 0; i < n; i++) {
        const d = path.join(dir, `d${String(Math.floor(i / 500)).padStart(4, "0")}`);
        if (i % 500 === 0) fs.mkdirSync(d, { recursive: true });
        const rows = 1 + Math.floor(rnd() * 5);
        let text = "";
        for (let r = 0; r < rows; r++) text += `${i},${r},PATIENT-${Math.floor(rnd() * 1e9)},${Math.floor(rnd() * 1e6)},1970-01-${1 + (r % 28)}\n`;
        fs.writeFileSync(path.join(d, `p${i}.csv`), text);
      }' "$dir" "$MEM_FILES"
    touch "$dir.done"
  fi
  echo "$dir"
}

# ---------------------------------------------------------------- runs
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RAW="$BENCH_DIR/results/memory-$STAMP"
mkdir -p "$RAW"
REPORT="$BENCH_DIR/results/memory-$STAMP.md"

# run NAME CMD... : /usr/bin/time -v, prints "wall_s rss_mib"
run() {
  local name=$1
  shift
  sync
  if ! /usr/bin/time -v -o "$RAW/$name.time" "$@" >"$RAW/$name.out" 2>"$RAW/$name.err" </dev/null; then
    log "$name FAILED (see $RAW/$name.err)"
    echo "fail fail"
    return
  fi
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$RAW/$name.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$RAW/$name.time")
  echo "$wall $rss"
}

status=0
{
  echo "# Memory check $STAMP"
  echo
  echo "Peak RSS (GNU time, max resident set) of a first backup, and of an unchanged re-backup, on a fresh repository."
  echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg). coffre at $(git -C "$ROOT" rev-parse --short HEAD)."
  echo
  echo "$FLOOR_NOTE"
  echo
  echo "| case | tool | backup wall s | backup peak RSS MiB | unchanged wall s | unchanged peak RSS MiB | target MiB | verdict |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$REPORT"

# one case per sparse size
RUNS=()
for c in "${CASES[@]}"; do
  if [[ "$c" == sparse ]]; then for g in "${SPARSE_SIZES[@]}"; do RUNS+=("sparse:$g"); done; else RUNS+=("$c"); fi
done
for c in "${RUNS[@]}"; do
  case "$c" in
    sparse:*) data=$(make_sparse "${c#sparse:}"); label="one ${c#sparse:} GiB sparse file" ;;
    tree) data=$(make_tree); label="$MEM_FILES small files" ;;
    *) die "unknown case '$c' (use sparse, tree)" ;;
  esac
  restic_rss=""
  for t in "${TOOLS[@]}"; do
    repo="$BENCH_DIR/mem-repos/$t-$c"
    state="$BENCH_DIR/mem-repos/$t-$c.state"
    rm -rf "$repo" "$state"
    mkdir -p "$BENCH_DIR/mem-repos"
    log "$c: $t"
    if [[ "$t" == restic ]]; then
      restic -r "$repo" --cache-dir "$state" init >/dev/null 2>&1
      cmd=(restic -r "$repo" --cache-dir "$state" backup --compression auto "$data")
    else
      "${COFFRE[@]}" init --repo "$repo" --password-file "$PWFILE" "${KDF[@]}" >/dev/null 2>&1
      cmd=("${COFFRE[@]}" backup --repo "$repo" --password-file "$PWFILE" --state-dir "$state" "$data")
    fi
    read -r wall rss < <(run "$t-$c-full" "${cmd[@]}")
    uwall=–
    urss=–
    if [[ "$MEM_UNCHANGED" == 1 && "$wall" != fail ]]; then read -r uwall urss < <(run "$t-$c-unchanged" "${cmd[@]}"); fi
    target=–
    verdict=–
    if [[ "$t" == restic ]]; then
      # restic's peak over both runs, as coffre's is below
      restic_rss=$rss
      [[ "$urss" =~ ^[0-9]+$ && "$rss" =~ ^[0-9]+$ && "$urss" -gt "$rss" ]] && restic_rss=$urss
    else
      if [[ -n "${MEM_TARGET_MIB:-}" ]]; then
        target=$MEM_TARGET_MIB
      elif [[ -n "$restic_rss" && "$restic_rss" != fail ]]; then
        target=$(awk -v r="$restic_rss" -v k="$MEM_TARGET_RATIO" 'BEGIN { printf "%.0f", r * k }')
      fi
      peak=$rss
      [[ "$urss" =~ ^[0-9]+$ && "$urss" -gt "$peak" ]] && peak=$urss
      if [[ "$wall" == fail || "$uwall" == fail ]]; then
        verdict="FAILED"
        status=1
      elif [[ "$target" != – ]]; then
        if ((peak <= target)); then verdict="under"; else verdict="**OVER**"; status=1; fi
        if [[ "$FLOOR" != – ]] && ((target < FLOOR)); then verdict="$verdict (target below the floor, $FLOOR MiB)"; fi
      fi
    fi
    echo "| $label | $t | $wall | $rss | $uwall | $urss | $target | $verdict |" >>"$REPORT"
    rm -rf "$repo" "$state"
  done
done
echo >>"$REPORT"
echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg). Raw output: $RAW" >>"$REPORT"
cat "$REPORT"
exit $status
