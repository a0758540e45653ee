#!/usr/bin/env bash
# Installs the Coffre agent as a systemd service, from a built checkout (npm ci).
#
#   sudo scripts/install-service.sh [--prefix /opt/coffre] [--now]
#   scripts/install-service.sh --unit-only FILE     # write the unit only (review, systemd-analyze verify)
#
# What it does (idempotent; an existing config or secret is never overwritten):
#   - a system user and group "coffre" (no login shell, home /var/lib/coffre);
#   - the program in PREFIX (bin/, dist/, node_modules/, package.json) and /usr/local/bin/coffre;
#   - /etc/coffre (root:coffre, 0750) with agent.config.json from the example (root:coffre, 0640)
#     if there is none yet; the passphrase and S3 key files are for the admin to create,
#     owned by coffre and mode 0600 (the agent refuses anything readable by group or others);
#   - /var/lib/coffre (coffre:coffre, 0700): the catalog, the lock, agent-status.json;
#   - /etc/systemd/system/coffre.service (hardened: see scripts/service/coffre.service.in),
#     enabled; started only with --now (fill in the config first).
# Read access to the sources is the admin's to grant, e.g. with ACLs (new files included):
#   setfacl -R -m u:coffre:rX /srv/identites && setfacl -R -d -m u:coffre:rX /srv/identites
# Undo with scripts/uninstall-service.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=/opt/coffre
NOW=0
UNIT_ONLY=""
while (($#)); do
  case "$1" in
    --prefix) PREFIX="${2:?--prefix needs a directory}"; shift 2 ;;
    --now) NOW=1; shift ;;
    --unit-only) UNIT_ONLY="${2:?--unit-only needs a file}"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "install-service.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

NODE="$(command -v node || true)"
[[ -n "$NODE" ]] || { echo "install-service.sh: node is not on PATH (Node.js 20 or 22 is needed)" >&2; exit 1; }
NODE="$(readlink -f "$NODE")"

# V8's young generation (see bin/coffre.js) as a node flag, so that it applies to the main
# thread too (set from inside, it reaches only the worker threads). The command line keeps
# 1 MiB semi-spaces (restores and drills stay lean); the agent, which backs up the large trees,
# gives its main thread 8 MiB: a backup of 200,000 small files took 15.9 s instead of 19.1 s,
# for about 6 MiB more on a small restore (docs/benchmarks.md). The command line also runs V8
# with one background thread (bin/coffre.js says why); the agent keeps V8's default.
NODE_FLAGS="--max-semi-space-size=1 --v8-pool-size=1"
AGENT_NODE_FLAGS="--max-semi-space-size=8"
write_unit() { sed -e "s|@NODE@|$NODE $AGENT_NODE_FLAGS|g" -e "s|@PREFIX@|$PREFIX|g" scripts/service/coffre.service.in > "$1"; }

if [[ -n "$UNIT_ONLY" ]]; then
  write_unit "$UNIT_ONLY"
  echo "wrote $UNIT_ONLY"
  exit 0
fi

[[ $EUID -eq 0 ]] || { echo "install-service.sh: run as root (sudo)" >&2; exit 1; }
command -v systemctl >/dev/null || { echo "install-service.sh: this host has no systemd (systemctl)" >&2; exit 1; }
[[ -f dist/bundle/main.js ]] || { echo "install-service.sh: build first: npm ci (or npm run build)" >&2; exit 1; }

if ! getent passwd coffre >/dev/null; then
  useradd --system --user-group --home-dir /var/lib/coffre --no-create-home --shell /usr/sbin/nologin --comment "Coffre backup agent" coffre
  echo "created system user coffre"
fi

install -d -m 0755 "$PREFIX"
for part in bin dist node_modules; do
  rm -rf "${PREFIX:?}/$part.new"
  cp -a "$part" "$PREFIX/$part.new"
  rm -rf "${PREFIX:?}/$part"
  mv "$PREFIX/$part.new" "$PREFIX/$part"
done
install -m 0644 package.json README.md agent.config.example.json "$PREFIX/"
install -d -m 0755 "$PREFIX/docs" && install -m 0644 docs/agent-config.md "$PREFIX/docs/"
chown -R root:root "$PREFIX"
printf '#!/bin/sh\nexec %s %s %s/bin/coffre.js "$@"\n' "$NODE" "$NODE_FLAGS" "$PREFIX" > /usr/local/bin/coffre
chmod 0755 /usr/local/bin/coffre

install -d -o root -g coffre -m 0750 /etc/coffre
if [[ ! -e /etc/coffre/agent.config.json ]]; then
  install -o root -g coffre -m 0640 agent.config.example.json /etc/coffre/agent.config.json
  echo "wrote /etc/coffre/agent.config.json from the example: edit it before starting"
fi
install -d -o coffre -g coffre -m 0700 /var/lib/coffre

write_unit /etc/systemd/system/coffre.service
chmod 0644 /etc/systemd/system/coffre.service
systemd-analyze verify /etc/systemd/system/coffre.service
systemctl daemon-reload
systemctl enable coffre.service >/dev/null
if ((NOW)); then systemctl restart coffre.service; echo "coffre.service started"; else echo "coffre.service installed and enabled; start it with: systemctl start coffre"; fi
