#!/usr/bin/env bash
# The full test suite (README's test command, and what CI runs): build, start the S3 test
# server (a single-node Ceph RGW on 127.0.0.1, scripts/rgw.sh) unless one is already given
# in the environment, run every vitest suite, stop the server if this script started it.
#   COFFRE_SKIP_S3=1 scripts/test.sh     # without Ceph: skips the S3 suites (CI never does)
#   scripts/test.sh tests/unit           # extra arguments go to vitest
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent build

started_rgw=0
stop_rgw() { if ((started_rgw)); then scripts/rgw.sh stop >/dev/null 2>&1 || true; fi; }
trap stop_rgw EXIT

if [[ "${COFFRE_SKIP_S3:-0}" != 1 && -z "${COFFRE_TEST_S3_ENDPOINT:-}" ]]; then
  if ! command -v radosgw >/dev/null 2>&1; then
    echo "test.sh: the S3 tests need Ceph RGW: run 'sudo scripts/ci-apt.sh' (or set COFFRE_SKIP_S3=1 to skip them)" >&2
    exit 1
  fi
  # Stop it afterwards only if this run started it (another run may be using it).
  scripts/rgw.sh status >/dev/null 2>&1 || started_rgw=1
  env_lines="$(scripts/rgw.sh start)"
  set -a
  eval "$env_lines"
  set +a
fi

npx vitest run "$@"
