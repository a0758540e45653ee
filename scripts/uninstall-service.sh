#!/usr/bin/env bash
# Removes what scripts/install-service.sh installed.
#
#   sudo scripts/uninstall-service.sh [--prefix /opt/coffre] [--purge]
#
# Keeps /etc/coffre (config, passphrase, keys) and /var/lib/coffre (catalog: a cache, but
# also the run history) and the coffre user unless --purge. The repository itself (the
# backups) is never touched.
set -euo pipefail

PREFIX=/opt/coffre
PURGE=0
while (($#)); do
  case "$1" in
    --prefix) PREFIX="${2:?--prefix needs a directory}"; shift 2 ;;
    --purge) PURGE=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "uninstall-service.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $EUID -eq 0 ]] || { echo "uninstall-service.sh: run as root (sudo)" >&2; exit 1; }

if systemctl list-unit-files coffre.service >/dev/null 2>&1; then
  systemctl disable --now coffre.service 2>/dev/null || true
fi
rm -f /etc/systemd/system/coffre.service
rm -rf /etc/systemd/system/coffre.service.d
systemctl daemon-reload 2>/dev/null || true
rm -f /usr/local/bin/coffre
if [[ -f "$PREFIX/bin/coffre.js" ]]; then rm -rf "${PREFIX:?}"; fi
if ((PURGE)); then
  rm -rf /etc/coffre /var/lib/coffre
  if getent passwd coffre >/dev/null; then userdel coffre; fi
  if getent group coffre >/dev/null; then groupdel coffre 2>/dev/null || true; fi
  echo "removed the service, the program, /etc/coffre, /var/lib/coffre and the coffre user"
else
  echo "removed the service and the program; kept /etc/coffre, /var/lib/coffre and the coffre user (--purge removes them)"
fi
