#!/usr/bin/env bash
# Coffre vs restic vs borg, measured side by side in the same run, reported as ratios.
# Full documentation: docs/benchmarks.md.
#
#   scripts/bench.sh                                  # BENCH_SCALE=small (~310 MB), REPS=1, restic + borg + coffre
#   BENCH_SCALE=full REPS=3 scripts/bench.sh          # the 2.70 GiB dataset of perf-baseline.md, median of 3
#   BENCH_MODE=smallfiles REPS=3 scripts/bench.sh     # 20,000 small files: unchanged re-backup, restic vs coffre
#   scripts/rgw.sh start >/dev/null; BENCH_S3=1 scripts/bench.sh   # restic + coffre against a local Ceph RGW
#
# Environment knobs (defaults in brackets):
#   BENCH_DIR [<repo>/.bench]   data, repositories, caches, results (git-ignored)
#   BENCH_SCALE [small]         small | medium (~1 GB) | full     (ignored by BENCH_MODE=smallfiles)
#   BENCH_MODE [suite]          suite | smallfiles
#   REPS [1]                    repetitions per tool, interleaved restic, borg, coffre, restic, ...; medians reported
#   BENCH_TOOLS                 subset of "restic borg coffre" [all three; "restic coffre" for smallfiles and S3]
#   BENCH_S3 [0]                1 = restic and coffre repositories on the S3 server in COFFRE_TEST_S3_ENDPOINT
#                               (+ AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION); when unset, they are read
#                               from ${RGW_DIR:-/tmp/coffre-rgw}/env, which `scripts/rgw.sh start` writes
#   BENCH_TIMEOUT [3600]        seconds before one step is killed (reported as a failure, never as a timing)
#   BENCH_BUILD [1]             0 = do not run `npm run build` before using coffre
#   BENCH_KEEP [0]              1 = keep repositories and caches after each repetition
#   BENCH_STRICT [0]            1 = a failed coffre step makes the exit status non-zero too
#   BENCH_COFFRE                the coffre command [<repo>/bin/coffre.js, run through its #! line with node's flags,
#                               as the installed command runs]; set it to time another build
#   BENCH_KDF [matched]         coffre's key-derivation cost: matched = restic's scrypt memory and passes on this
#                               machine (scripts/bench/kdf-flags.sh), or a coffre profile name (interactive, …)
#
# Exit status: 0 = report written, restic/borg steps all succeeded and every restore was identical;
# 1 = a restic/borg step failed (or a coffre step with BENCH_STRICT=1); 2 = usage or environment problem;
# 3 = a restore was NOT identical to the source.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/scripts/bench"

die() { printf 'bench: %s\n' "$*" >&2; exit 2; }
log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

BENCH_DIR=${BENCH_DIR:-$ROOT/.bench}
BENCH_SCALE=${BENCH_SCALE:-small}
BENCH_MODE=${BENCH_MODE:-suite}
REPS=${REPS:-1}
BENCH_S3=${BENCH_S3:-0}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-3600}
BENCH_BUILD=${BENCH_BUILD:-1}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_STRICT=${BENCH_STRICT:-0}
if [[ -n "${BENCH_COFFRE:-}" ]]; then
  read -r -a COFFRE_CMD <<<"$BENCH_COFFRE"
  # steps run in other directories: make a relative program path absolute
  if [[ "${COFFRE_CMD[0]}" == */* && "${COFFRE_CMD[0]}" != /* ]]; then COFFRE_CMD[0]="$PWD/${COFFRE_CMD[0]}"; fi
else
  COFFRE_CMD=("$ROOT/bin/coffre.js")
fi

# ---------------------------------------------------------------- arguments
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer (got '$REPS')"
[[ "$BENCH_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "BENCH_TIMEOUT must be a positive number of seconds (got '$BENCH_TIMEOUT')"
[[ "$BENCH_S3" == 0 || "$BENCH_S3" == 1 ]] || die "BENCH_S3 must be 0 or 1 (got '$BENCH_S3')"
case "$BENCH_MODE" in
  suite)
    case "$BENCH_SCALE" in small | medium | full) ;; *) die "BENCH_SCALE must be small, medium or full (got '$BENCH_SCALE')" ;; esac
    DATASET=$BENCH_SCALE
    DEFAULT_TOOLS="restic borg coffre" ;;
  smallfiles)
    DATASET=smallfiles
    DEFAULT_TOOLS="restic coffre" ;;
  *) die "BENCH_MODE must be suite or smallfiles (got '$BENCH_MODE')" ;;
esac
[[ "$BENCH_S3" == 1 ]] && DEFAULT_TOOLS="restic coffre"
read -r -a TOOLS <<<"${BENCH_TOOLS:-$DEFAULT_TOOLS}"
((${#TOOLS[@]} > 0)) || die "BENCH_TOOLS is empty"
for t in "${TOOLS[@]}"; do
  case "$t" in restic | borg | coffre) ;; *) die "BENCH_TOOLS: unknown tool '$t' (use restic, borg, coffre)" ;; esac
done
has_tool() { local t; for t in "${TOOLS[@]}"; do [[ "$t" == "$1" ]] && return 0; done; return 1; }

# ---------------------------------------------------------------- prerequisites
gnu_time_ok() { [[ -x /usr/bin/time && "$(/usr/bin/time --version 2>&1)" == *GNU* ]]; }
if ! gnu_time_ok; then
  log "GNU time is missing: installing the Debian package 'time' (apt-get install -y time)"
  [[ $(id -u) == 0 ]] || die "GNU /usr/bin/time is required: run 'apt-get install -y time' as root"
  { apt-get install -y time || { apt-get update && apt-get install -y time; }; } >&2 || die "could not install the Debian package 'time'"
  gnu_time_ok || die "/usr/bin/time is still not GNU time after installing the package 'time'"
fi
for c in node timeout diff du find flock sync awk; do command -v "$c" >/dev/null || die "'$c' is required but not on PATH"; done
has_tool restic && { command -v restic >/dev/null || die "restic is not installed: apt-get install -y restic"; }
has_tool borg && { command -v borg >/dev/null || die "borg is not installed: apt-get install -y borgbackup"; }

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
exec 9>"$BENCH_DIR/.lock"
flock -n 9 || die "another bench run is using $BENCH_DIR (lock $BENCH_DIR/.lock)"

S3_EP=""
if [[ "$BENCH_S3" == 1 ]]; then
  # the environment wins; else the env file of a running scripts/rgw.sh ($RGW_DIR/env)
  rgw_env="${RGW_DIR:-/tmp/coffre-rgw}/env"
  if [[ -z "${COFFRE_TEST_S3_ENDPOINT:-}" && -r "$rgw_env" ]]; then
    while IFS='=' read -r k v; do
      case "$k" in COFFRE_TEST_S3_ENDPOINT | AWS_ACCESS_KEY_ID | AWS_SECRET_ACCESS_KEY | AWS_REGION) export "$k=$v" ;; esac
    done <"$rgw_env"
  fi
  S3_EP=${COFFRE_TEST_S3_ENDPOINT:-}
  [[ -n "$S3_EP" && -n "${AWS_ACCESS_KEY_ID:-}" && -n "${AWS_SECRET_ACCESS_KEY:-}" ]] ||
    die "BENCH_S3=1: no RGW configured (COFFRE_TEST_S3_ENDPOINT/AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY unset); start one with scripts/rgw.sh start"
  S3_EP=${S3_EP%/}
  probe_err=$(timeout 30 node --no-warnings "$HERE/s3.mjs" probe 2>&1) ||
    die "BENCH_S3=1: no RGW answering at $S3_EP ($(head -n1 <<<"$probe_err")); start one with scripts/rgw.sh start"
fi

# ---------------------------------------------------------------- run directory, environment
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS="$BENCH_DIR/results"
RUN="$RESULTS/$RUN_ID"
REPORT="$RESULTS/$RUN_ID.md"
mkdir -p "$RUN/raw" "$BENCH_DIR/repos" "$BENCH_DIR/cache" "$BENCH_DIR/restore"
STEPS_TSV="$RUN/steps.tsv"
META="$RUN/meta.tsv"
CMDLOG="$RUN/commands.log"
: >"$STEPS_TSV"
: >"$META"
: >"$CMDLOG"
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }

PWFILE="$BENCH_DIR/password"
(umask 077 && printf 'bench-passphrase-not-secret\n' >"$PWFILE")
chmod 600 "$PWFILE"

# nothing from the caller's environment may redirect a tool to another repository or key
unset RESTIC_REPOSITORY RESTIC_REPOSITORY_FILE RESTIC_PASSWORD RESTIC_PASSWORD_COMMAND BORG_REPO BORG_PASSPHRASE BORG_PASSCOMMAND \
  COFFRE_REPOSITORY COFFRE_PASSWORD_FILE COFFRE_STATE_DIR COFFRE_CONFIG
export RESTIC_PASSWORD_FILE="$PWFILE"
export BORG_PASSCOMMAND="cat $PWFILE" BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=no
export XDG_STATE_HOME="$BENCH_DIR/cache/xdg-state" XDG_CACHE_HOME="$BENCH_DIR/cache/xdg-cache"

# ---------------------------------------------------------------- dataset
DATA="$BENCH_DIR/data-$DATASET"
log "dataset '$DATASET' in $DATA"
node "$HERE/dataset.mjs" ensure "$DATA" "$DATASET" >"$RUN/dataset.json" || die "dataset generation failed"
DATA_BYTES=$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).bytes))' "$RUN/dataset.json")
MUT_BYTES=$DATA_BYTES
MUTATED=0
mutate() { # apply | revert
  node "$HERE/dataset.mjs" "$1" "$DATA" "$DATASET" || die "dataset $1 failed"
  if [[ "$1" == apply ]]; then MUTATED=1; else MUTATED=0; fi
}
# Trees a step is done with (restored copies, repositories, caches) are moved aside and deleted
# only when the run ends. Deleting them between steps made the next restore's timing depend on
# what was deleted just before: ext4 without a journal (this VM's root file system) skips the
# inodes freed in the last minute when it allocates new ones, each file creation scanning them,
# so 2,000 creations took 35 ms in a fresh directory and 300 ms after 2,000 deletions
# (docs/benchmarks.md, "Restore timings and deleted inodes"). The trash is emptied early only
# when the disk runs short (see make_room).
TRASH="$BENCH_DIR/trash"
TRASH_SEQ=0
discard() { # path... : moved into the trash (same file system), never deleted mid-run
  local p
  for p in "$@"; do
    [[ -e "$p" ]] || continue
    mkdir -p "$TRASH"
    TRASH_SEQ=$((TRASH_SEQ + 1))
    mv "$p" "$TRASH/$TRASH_SEQ" 2>/dev/null || rm -rf "$p"
  done
}
make_room() { # before a repetition: empty the trash if less than 4 datasets' worth of space is left
  local avail_kb
  avail_kb=$(df -Pk "$BENCH_DIR" | awk 'NR == 2 {print $4}')
  if [[ -d "$TRASH" ]] && ((avail_kb < DATA_BYTES / 256 + 1048576)); then
    log "disk space short ($((avail_kb / 1024)) MiB free): emptying the trash now; the next restore may be slower"
    rm -rf "$TRASH"
  fi
}
cleanup() {
  local rc=$?
  if [[ "$MUTATED" == 1 ]]; then node "$HERE/dataset.mjs" revert "$DATA" "$DATASET" || log "WARNING: could not revert the mutation of $DATA"; fi
  rm -rf "$BENCH_DIR/restore" "$TRASH"
  exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------- coffre build and flags
COFFRE_KDF=()
COFFRE_NOTE=""
if has_tool coffre; then
  if [[ "$BENCH_BUILD" == 1 && -z "${BENCH_COFFRE:-}" ]]; then
    log "npm run build (log: $RUN/build.log)"
    if ! (cd "$ROOT" && timeout 900 npm run build) >"$RUN/build.log" 2>&1; then
      COFFRE_NOTE="npm run build failed: $(grep -m1 -E 'error' "$RUN/build.log" || tail -n1 "$RUN/build.log")"
      log "WARNING: $COFFRE_NOTE (coffre is run from whatever dist/ holds)"
    fi
  fi
  mkdir -p "$BENCH_DIR/tmp"
  mapfile -t COFFRE_KDF < <("$HERE/kdf-flags.sh" "$BENCH_DIR/tmp" "${COFFRE_CMD[@]}")
  if [[ "$BENCH_S3" == 1 ]]; then
    timeout 60 node --no-warnings "$HERE/s3.mjs" mkbucket coffre-bench-coffre >&2 || die "could not create the bucket coffre-bench-coffre at $S3_EP"
  fi
fi

# ---------------------------------------------------------------- machine facts
fact() { "$@" 2>/dev/null | head -n1 || true; }
meta "run id" "$RUN_ID"
meta "mode" "$BENCH_MODE"
meta "dataset" "$DATASET ($DATA)"
meta "reps" "$REPS"
meta "tools (run order per repetition)" "${TOOLS[*]}"
meta "storage" "$([[ "$BENCH_S3" == 1 ]] && echo "S3 at $S3_EP for restic and coffre; borg (if run) local" || echo "local directories under $BENCH_DIR/repos")"
meta "host" "$(hostname)"
meta "CPU" "$(nproc) vCPU, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)"
meta "RAM" "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
meta "OS / kernel" "Debian $(cat /etc/debian_version 2>/dev/null || echo '?'), $(uname -r)"
meta "disk of BENCH_DIR" "$(df -h --output=source,size,avail "$BENCH_DIR" | tail -n1 | awk '{print $1" ("$2", "$3" free)"}')"
meta "load average at start" "$(cut -d' ' -f1-3 /proc/loadavg)"
meta "node" "$(node --version) (npm $(fact npm --version))"
has_tool restic && meta "restic" "$(fact restic version)"
has_tool borg && meta "borg" "$(fact borg --version)"
meta "GNU time" "$(dpkg-query -W -f '${Version}' time 2>/dev/null || echo '?')"
if has_tool coffre; then
  meta "coffre command" "${COFFRE_CMD[*]}"
  meta "coffre" "$(node -p 'require(process.argv[1]).version' "$ROOT/package.json" 2>/dev/null || echo '?') at git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') ($(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l) uncommitted paths in the work tree)"
  meta "coffre init flags" "${COFFRE_KDF[*]:-(no --kdf flag in 'coffre init --help')}"
  [[ -n "$COFFRE_NOTE" ]] && meta "coffre build" "$COFFRE_NOTE"
fi
meta "started" "$(date -u +'%Y-%m-%d %H:%M:%S UTC')"

# ---------------------------------------------------------------- step runner
STATUS_FAIL_CORE=0   # restic/borg failure
STATUS_FAIL_COFFRE=0
MISMATCH=0
DEP_FAIL=""          # set when a step fails: later steps of that tool/repetition are skipped

# first useful line of a failed step's output: a "coffre: ..." line, else a Node "XxxError: ..." line, else anything
# that looks like an error, else the first non-empty line
first_error_line() { # $1 = base path
  local line
  line=$(grep -h -m1 -E '^coffre: ' "$1.err" "$1.out" 2>/dev/null | head -n1) ||
    line=$(grep -h -m1 -E '^[A-Za-z]*Error( \[[A-Z0-9_]+\])?: ' "$1.err" 2>/dev/null | head -n1) ||
    line=$(grep -h -m1 -E '(^|[^a-z])(Error|error|ERROR|Fatal|fatal|FATAL)' "$1.err" 2>/dev/null | head -n1) ||
    line=$(grep -h -m1 -v -E '^\s*$|^\(node:[0-9]+\) ' "$1.err" "$1.out" 2>/dev/null | head -n1) || line=""
  line=${line//$'\t'/ }
  printf '%s' "${line:0:240}"
}

# steps.tsv: one "tool<TAB>rep<TAB>step<TAB>key<TAB>value" line per fact; report.mjs merges them
CUR=()
kv() { # key value   (about the step run last)
  local v=${2//$'\t'/ }
  v=${v//$'\n'/ }
  printf '%s\t%s\t%s\t%s\t%s\n' "${CUR[0]}" "${CUR[1]}" "${CUR[2]}" "$1" "$v" >>"$STEPS_TSV"
}

# command line for the log, quoted only where a shell needs it
shell_words() {
  local w out=()
  for w in "$@"; do
    if [[ "$w" =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then out+=("$w"); else out+=("'${w//\'/\'\\\'\'}'"); fi
  done
  printf '%s' "${out[*]}"
}

# run_step TOOL REP STEP CWD CMD...   -- one timed step; sets STEP_OK=1/0
run_step() {
  local tool=$1 rep=$2 step=$3 cwd=$4
  shift 4
  local base="$RUN/raw/$tool.r$rep.$step" rc=0 status note=""
  STEP_OK=0
  CUR=("$tool" "$rep" "$step")
  if [[ -n "$DEP_FAIL" ]]; then
    kv status skip
    kv note "skipped: $DEP_FAIL"
    log "$tool r$rep $step: skipped ($DEP_FAIL)"
    return 0
  fi
  printf '# %s r%s %s (cwd %s)\n%s\n' "$tool" "$rep" "$step" "$cwd" "$(shell_words "$@")" >>"$CMDLOG"
  sync
  (cd "$cwd" && exec /usr/bin/time -v -o "$base.time" timeout --foreground -k 30 "$BENCH_TIMEOUT" "$@") \
    </dev/null >"$base.out" 2>"$base.err" || rc=$?
  if ((rc == 0)); then
    status=ok
    STEP_OK=1
  else
    if ((rc == 124 || rc == 137)); then status=timeout; note="killed after BENCH_TIMEOUT=${BENCH_TIMEOUT}s"; else status=fail; note=$(first_error_line "$base"); fi
    [[ -n "$note" ]] || note="exit status $rc"
    DEP_FAIL="$step failed"
    if [[ "$tool" == coffre ]]; then STATUS_FAIL_COFFRE=1; else STATUS_FAIL_CORE=1; fi
  fi
  local wall
  wall=$(sed -n 's/^\s*Elapsed (wall clock) time.*: //p' "$base.time" 2>/dev/null | head -n1)
  log "$tool r$rep $step: $status (wall ${wall:-?}, rc $rc)${note:+ — $note}"
  kv status "$status"
  kv rc "$rc"
  kv time "$base.time"
  [[ -z "$note" ]] || kv note "$note"
}

dir_bytes() { if [[ -e "$1" ]]; then du -sb "$1" | cut -f1; else echo 0; fi; }
repo_bytes() { # tool repo
  if [[ "$2" == s3:* ]]; then
    local rest=${2#s3:"$S3_EP"/}
    timeout 600 node --no-warnings "$HERE/s3.mjs" du "${rest%%/*}" "${rest#*/}" 2>>"$RUN/s3.log" || echo ""
  else
    dir_bytes "$2"
  fi
}
after_backup() { # tool repo cache data_bytes
  kv data_bytes "$4"
  [[ "$STEP_OK" != 1 ]] || { kv repo_bytes "$(repo_bytes "$1" "$2")"; kv cache_bytes "$(dir_bytes "$3")"; }
}
after_data_step() { kv data_bytes "$1"; }

# untimed: the restored tree must be identical to the (mutated) source
verify_restore() { # tool rep restored_path
  local diff_out="$RUN/raw/$1.r$2.restore.diff"
  if [[ "$STEP_OK" != 1 ]]; then return 0; fi
  if [[ ! -d "$3" ]]; then
    echo "restored tree not found at $3" >"$diff_out"
  elif diff -rq "$DATA" "$3" >"$diff_out" 2>&1; then
    kv verify identical
    log "$1 r$2 restore: diff -r says IDENTICAL"
    return 0
  fi
  MISMATCH=1
  kv verify DIFFERENT
  kv verify_note "$(head -n1 "$diff_out")"
  {
    echo "=================================================================="
    echo "bench: RESTORE MISMATCH: $1 (repetition $2) restored data differs from $DATA"
    head -n 10 "$diff_out"
    echo "full diff list: $diff_out"
    echo "=================================================================="
  } >&2
}

# ---------------------------------------------------------------- the tools
# Each suite: fresh repository, cache and restore dir; steps in order; mutation applied before the
# post-mutation backup and reverted at the end, so every tool sees exactly the same bytes.
suite_begin() { # tool rep repo cache target
  DEP_FAIL=""
  discard "$4" "$5"
  [[ "$3" == s3:* ]] || discard "$3"
  mkdir -p "$4" "$5"
}
suite_end() { # repo cache target
  discard "$3"
  [[ "$MUTATED" == 1 ]] && mutate revert
  if [[ "$BENCH_KEEP" != 1 ]]; then
    discard "$2"
    if [[ "$1" == s3:* ]]; then
      local rest=${1#s3:"$S3_EP"/}
      timeout 900 node --no-warnings "$HERE/s3.mjs" rm "${rest%%/*}" "${rest#*/}" 2>>"$RUN/s3.log" || log "WARNING: could not delete $1"
    else
      discard "$1"
    fi
  fi
}
mutation_point() { # before the post-mutation backup
  mutate apply
  MUT_BYTES=$(find "$DATA" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}')
}

suite_restic() {
  local rep=$1 repo cache="$BENCH_DIR/cache/restic" target="$BENCH_DIR/restore/restic" o=()
  if [[ "$BENCH_S3" == 1 ]]; then
    repo="s3:$S3_EP/coffre-bench-restic/$RUN_ID-r$rep"
    o=(-o s3.bucket-lookup=path)
    [[ -n "${AWS_REGION:-}" ]] && o+=(-o "s3.region=$AWS_REGION")
  else
    repo="$BENCH_DIR/repos/restic"
  fi
  local R=(restic -r "$repo" "${o[@]}" --cache-dir "$cache")
  suite_begin restic "$rep" "$repo" "$cache" "$target"
  run_step restic "$rep" init "$BENCH_DIR" "${R[@]}" init --repository-version 2
  run_step restic "$rep" full "$BENCH_DIR" "${R[@]}" backup --compression auto "$DATA"
  after_backup restic "$repo" "$cache" "$DATA_BYTES"
  run_step restic "$rep" unchanged "$BENCH_DIR" "${R[@]}" backup --compression auto "$DATA"
  after_backup restic "$repo" "$cache" "$DATA_BYTES"
  if [[ "$BENCH_MODE" == suite ]]; then
    mutation_point
    run_step restic "$rep" mutated "$BENCH_DIR" "${R[@]}" backup --compression auto "$DATA"
    after_backup restic "$repo" "$cache" "$MUT_BYTES"
    local after_mutated=$DEP_FAIL
    run_step restic "$rep" restore "$BENCH_DIR" "${R[@]}" restore latest --target "$target"
    after_data_step "$MUT_BYTES"
    verify_restore restic "$rep" "$target$DATA"
    discard "$target"
    DEP_FAIL=$after_mutated # check does not depend on restore
    run_step restic "$rep" check "$BENCH_DIR" "${R[@]}" check --read-data
    after_data_step "$MUT_BYTES"
  fi
  suite_end "$repo" "$cache" "$target"
}

suite_borg() {
  local rep=$1 repo="$BENCH_DIR/repos/borg" cache="$BENCH_DIR/cache/borg" target="$BENCH_DIR/restore/borg"
  local name
  name=$(basename "$DATA")
  export BORG_BASE_DIR="$cache"
  suite_begin borg "$rep" "$repo" "$cache" "$target"
  # cwd = BENCH_DIR, so archive paths are relative ("data-<scale>/..."); borg extract recreates them under its cwd
  run_step borg "$rep" init "$BENCH_DIR" borg init -e repokey "$repo"
  run_step borg "$rep" full "$BENCH_DIR" borg create --stats --compression zstd,3 "$repo::b1" "$name"
  after_backup borg "$repo" "$cache" "$DATA_BYTES"
  run_step borg "$rep" unchanged "$BENCH_DIR" borg create --stats --compression zstd,3 "$repo::b2" "$name"
  after_backup borg "$repo" "$cache" "$DATA_BYTES"
  if [[ "$BENCH_MODE" == suite ]]; then
    mutation_point
    run_step borg "$rep" mutated "$BENCH_DIR" borg create --stats --compression zstd,3 "$repo::b3" "$name"
    after_backup borg "$repo" "$cache" "$MUT_BYTES"
    local after_mutated=$DEP_FAIL
    run_step borg "$rep" restore "$target" borg extract "$repo::b3"
    after_data_step "$MUT_BYTES"
    verify_restore borg "$rep" "$target/$name"
    discard "$target"
    DEP_FAIL=$after_mutated # check does not depend on restore
    run_step borg "$rep" check "$BENCH_DIR" borg check --verify-data "$repo"
    after_data_step "$MUT_BYTES"
  fi
  suite_end "$repo" "$cache" "$target"
}

suite_coffre() {
  local rep=$1 repo state="$BENCH_DIR/cache/coffre" target="$BENCH_DIR/restore/coffre"
  if [[ "$BENCH_S3" == 1 ]]; then repo="s3:$S3_EP/coffre-bench-coffre/$RUN_ID-r$rep"; else repo="$BENCH_DIR/repos/coffre"; fi
  local C=("${COFFRE_CMD[@]}")
  local A=(--repo "$repo" --password-file "$PWFILE" --state-dir "$state")
  suite_begin coffre "$rep" "$repo" "$state" "$target"
  run_step coffre "$rep" init "$BENCH_DIR" "${C[@]}" init --repo "$repo" --password-file "$PWFILE" "${COFFRE_KDF[@]}"
  run_step coffre "$rep" full "$BENCH_DIR" "${C[@]}" backup "${A[@]}" "$DATA"
  after_backup coffre "$repo" "$state" "$DATA_BYTES"
  run_step coffre "$rep" unchanged "$BENCH_DIR" "${C[@]}" backup "${A[@]}" "$DATA"
  after_backup coffre "$repo" "$state" "$DATA_BYTES"
  if [[ "$BENCH_MODE" == suite ]]; then
    mutation_point
    run_step coffre "$rep" mutated "$BENCH_DIR" "${C[@]}" backup "${A[@]}" "$DATA"
    after_backup coffre "$repo" "$state" "$MUT_BYTES"
    local after_mutated=$DEP_FAIL
    run_step coffre "$rep" restore "$BENCH_DIR" "${C[@]}" restore latest "${A[@]}" --target "$target"
    after_data_step "$MUT_BYTES"
    verify_restore coffre "$rep" "$target$DATA"
    discard "$target"
    DEP_FAIL=$after_mutated # check does not depend on restore
    run_step coffre "$rep" check "$BENCH_DIR" "${C[@]}" check --read-data "${A[@]}"
    after_data_step "$MUT_BYTES"
  fi
  suite_end "$repo" "$state" "$target"
}

# ---------------------------------------------------------------- main loop
log "run $RUN_ID: mode=$BENCH_MODE dataset=$DATASET ($DATA_BYTES B) reps=$REPS tools=${TOOLS[*]}"
rm -rf "$TRASH" # a previous run's, if it was killed
for ((rep = 1; rep <= REPS; rep++)); do
  make_room
  for t in "${TOOLS[@]}"; do
    log "---- $t, repetition $rep of $REPS"
    "suite_$t" "$rep"
  done
done
meta "finished" "$(date -u +'%Y-%m-%d %H:%M:%S UTC')"
meta "load average at end" "$(cut -d' ' -f1-3 /proc/loadavg)"

node "$HERE/report.mjs" "$RUN" "$REPORT"
log "report: $REPORT (raw logs: $RUN)"

if ((MISMATCH)); then
  log "FAILED: at least one restore was not identical to the source (see the report)"
  exit 3
fi
if ((STATUS_FAIL_CORE)); then
  log "FAILED: a restic or borg step failed (see the report)"
  exit 1
fi
if ((STATUS_FAIL_COFFRE)); then
  log "note: some coffre steps failed and are reported as n/a"
  [[ "$BENCH_STRICT" == 1 ]] && exit 1
fi
exit 0
