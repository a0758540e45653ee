#!/usr/bin/env bash
# Installs the Debian packages Coffre's tests need on a fresh Debian 12 machine (run as root):
# a single-node Ceph RADOS Gateway for the S3 tests (see scripts/rgw.sh), uuidgen and curl.
# ceph-mgr is deliberately left out (scripts/rgw.sh does not need it; it would add ~35 packages).
# Skips apt entirely when everything is already there, so repeated CI runs cost nothing.
set -euo pipefail

PACKAGES=(radosgw ceph-mon ceph-osd uuid-runtime curl)
NEEDED_BINARIES=(radosgw radosgw-admin ceph ceph-mon ceph-osd monmaptool uuidgen curl)

missing=0
for bin in "${NEEDED_BINARIES[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || missing=1
done
if ((missing == 0)); then
  echo "ci-apt.sh: all test packages already installed" >&2
  exit 0
fi

if ((EUID != 0)); then
  echo "ci-apt.sh: must run as root (or: sudo apt-get install -y --no-install-recommends ${PACKAGES[*]})" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Package maintainer scripts must not try to start daemons on a CI machine.
policy_added=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  policy_added=1
fi
trap 'if ((policy_added)); then rm -f /usr/sbin/policy-rc.d; fi' EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${PACKAGES[@]}"
echo "ci-apt.sh: installed ${PACKAGES[*]}" >&2
