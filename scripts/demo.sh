#!/usr/bin/env bash
# The main job on the embedded default (a local repository directory): generate a small
# sample tree of fake patient-identity files, back it up, change a file, back up again,
# restore the latest snapshot with --verify, compare it with the source byte for byte, and
# check every byte of the repository. Everything lives under one scratch directory.
#   npm run demo                 # or: scripts/demo.sh [SCRATCH_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f dist/bundle/main.js ]] || npm run --silent build

work="${1:-$(mktemp -d -t coffre-demo-XXXXXX)}"
mkdir -p "$work"
src="$work/identites" repo="$work/repository" restored="$work/restored"
pw="$work/passphrase"
( umask 077; [[ -s "$pw" ]] || head -c 24 /dev/urandom | base64 >"$pw" )
coffre() { node bin/coffre.js --repo "$repo" --password-file "$pw" "$@"; }

echo "== sample data in $src"
node scripts/demo-data.mjs "$src"

echo "== init (a demo key file: the 'interactive' Argon2id profile, to be quick)"
[[ -f "$repo/config" ]] || coffre init --kdf interactive | sed 's/^    [A-Z0-9-]\{39\}$/    (recovery key printed here)/'
echo "== backup"
coffre backup "$src"
echo "== one file changes, back up again"
echo "99999,NOUVEAU,Patient,2001-02-03,1010101010101,1 place du Théâtre,59000 Lille" >>"$src/service-a/patients-0001.csv"
coffre backup "$src"
coffre snapshots
echo "== restore latest, verifying every file against the snapshot"
rm -rf "$restored"
coffre restore latest --target "$restored" --verify
diff -r --no-dereference "$src" "$restored$src"
echo "restored tree is identical to the source (diff -r)"
echo "== check --read-data"
coffre check --read-data
echo "demo OK (scratch dir: $work)"
