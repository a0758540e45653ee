#!/usr/bin/env bash
# A throwaway single-node Ceph RADOS Gateway (S3) on 127.0.0.1 for Coffre's storage tests.
#
#   scripts/rgw.sh start    # prints KEY=VALUE lines (also in $RGW_DIR/env); exit 0 once S3 answers
#   scripts/rgw.sh stop     # stops only the daemons whose pid files it wrote, removes $RGW_DIR
#   scripts/rgw.sh status   # exit 0 if S3 answers, 1 otherwise
#
#   eval "$(scripts/rgw.sh start)"; export COFFRE_TEST_S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
#
# One mon + one memstore OSD (objects live in the OSD's RAM) + radosgw, cephx off, no systemd,
# no ceph-mgr. Ports are Ceph's defaults shifted by 10000 so a real Ceph or another S3 test
# server on the same machine does not clash. Overrides (environment):
#   RGW_DIR (/tmp/coffre-rgw)  RGW_PORT (17480)  RGW_MON_PORT (13300, msgr2)  RGW_MON_V1_PORT (16789)
#   RGW_OSD_PORTS (16800-16899)  RGW_ACCESS_KEY / RGW_SECRET_KEY (random per start)
#   RGW_MEMSTORE_BYTES (4 GiB reported to Ceph; RAM is used only as data is written)  RGW_START_TIMEOUT (90 s)
# Logs: $RGW_DIR/log. On a failed start the log tails go to stderr and everything started is stopped.
set -euo pipefail

DIR="${RGW_DIR:-/tmp/coffre-rgw}"
RGW_PORT="${RGW_PORT:-17480}"
MON_PORT="${RGW_MON_PORT:-13300}"
MON_V1_PORT="${RGW_MON_V1_PORT:-16789}"
OSD_PORTS="${RGW_OSD_PORTS:-16800-16899}"
MEMSTORE_BYTES="${RGW_MEMSTORE_BYTES:-4294967296}"
START_TIMEOUT="${RGW_START_TIMEOUT:-90}"
CONF="$DIR/ceph.conf"
ENDPOINT="http://127.0.0.1:$RGW_PORT"
APT_HINT="apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd uuid-runtime curl"
# name:expected /proc/PID/comm, in stop order (clients first)
DAEMONS=(radosgw:radosgw osd.0:ceph-osd mon.a:ceph-mon)

log() { printf 'rgw.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
ceph_cmd() { timeout 20 ceph -c "$CONF" "$@"; }

# Prints the pid recorded for $1 if that process is alive and is the binary we started ($2).
# Checking the command name guards against killing an unrelated process that reused the pid.
live_pid() {
  local file="$DIR/pids/$1" pid state
  [[ -s "$file" ]] || return 1
  pid="$(<"$file")"
  [[ "$pid" =~ ^[0-9]+$ && -r /proc/$pid/comm ]] || return 1
  [[ "$(</proc/"$pid"/comm)" == "$2"* ]] || return 1
  state="$(awk '{print $3}' /proc/"$pid"/stat 2>/dev/null || echo X)"
  [[ "$state" != Z && "$state" != X ]] || return 1   # a zombie is as good as gone
  echo "$pid"
}

wait_gone() { # pid, tenths of a second
  local i
  for ((i = 0; i < $2; i++)); do
    [[ -e /proc/$1/stat && "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" != Z ]] || return 0
    sleep 0.1
  done
  return 1
}

stop_all() {
  local entry name comm pid
  for entry in "${DAEMONS[@]}"; do
    IFS=: read -r name comm <<<"$entry"
    pid="$(live_pid "$name" "$comm")" || continue
    # Everything here is throwaway (memstore keeps objects in RAM), so no clean shutdown: a
    # TERMed radosgw takes ~2 s, and hangs if its mon/osd go first.
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 50 || log "$name ($pid) still present after SIGKILL"
  done
  case "$DIR" in
    /tmp/?*) rm -rf -- "$DIR" ;;
    *) rm -rf -- "$DIR/pids" "$DIR/env"; log "left $DIR in place (not under /tmp)" ;;
  esac
}

s3_answers() { curl -fsS -m 2 "$ENDPOINT/" 2>/dev/null | grep -q ListAllMyBucketsResult; }

all_running() {
  local entry name comm
  for entry in "${DAEMONS[@]}"; do
    IFS=: read -r name comm <<<"$entry"
    live_pid "$name" "$comm" >/dev/null || return 1
  done
  s3_answers
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Daemons run in the foreground (-f) under nohup with our stdio closed, so `$(rgw.sh start)` returns.
spawn() { # name, command...
  local name="$1"; shift
  nohup "$@" -f </dev/null >>"$DIR/log/$name.out" 2>&1 9>&- &
  echo $! >"$DIR/pids/$name"
}

wait_until() { # what, seconds, command...
  local what="$1" deadline=$((SECONDS + $2)); shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out waiting for $what (logs in $DIR/log)"
    sleep 0.2
  done
}

write_conf() { # fsid
  cat >"$CONF" <<EOF
[global]
fsid = $1
mon_initial_members = a
mon_host = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]
public_addr = 127.0.0.1
ms_bind_ipv6 = false
ms_bind_port_min = ${OSD_PORTS%-*}
ms_bind_port_max = ${OSD_PORTS#*-}
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
run_dir = $DIR/run
admin_socket = $DIR/run/\$name.asok
pid_file = $DIR/run/\$name.pid
log_file = $DIR/log/\$name.log
crash_dir = $DIR/crash
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
mon_warn_on_insecure_global_id_reclaim_allowed = false
# The monitor's store is a few MiB and objects live in RAM (memstore): the default refusal to
# run below 5 % free disk stopped the test server on a big, busy disk with 14 GiB still free.
mon_data_avail_crit = 1
mon_data_avail_warn = 2

[mon]
mon_data = $DIR/mon/\$id
# every pool creation waits for a paxos commit; the 1 s default makes a start take ~13 s
paxos_propose_interval = 0.1

[osd]
osd_data = $DIR/osd/\$id
osd_objectstore = memstore
memstore_device_bytes = $MEMSTORE_BYTES

[client.rgw.coffre]
# radosgw defaults to cephx + secure mode for its own client and hangs 300 s without these
auth_client_required = none
ms_mon_client_mode = crc
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_data = $DIR/rgw
rgw_dns_name = 127.0.0.1
# deleted object data stays in OSD RAM until garbage collection (2 h by default)
rgw_gc_obj_min_wait = 30
rgw_gc_processor_period = 30
EOF
}

print_env() {
  cat "$DIR/env"
}

start() {
  local missing=() bin
  for bin in monmaptool ceph-mon ceph-osd ceph radosgw radosgw-admin uuidgen curl; do
    command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
  done
  ((${#missing[@]} == 0)) || die "missing ${missing[*]}; install with: $APT_HINT"

  if [[ -s "$DIR/env" ]] && all_running; then
    log "already running at $ENDPOINT, reusing it"
    print_env
    return 0
  fi
  if [[ -e "$DIR" ]]; then
    log "stale or partial instance in $DIR, stopping it first"
    stop_all
  fi
  local port
  for port in "$RGW_PORT" "$MON_PORT" "$MON_V1_PORT"; do
    port_busy "$port" && die "127.0.0.1:$port is already in use (set RGW_PORT / RGW_MON_PORT / RGW_MON_V1_PORT)"
  done

  local t0=$SECONDS
  mkdir -p "$DIR"/{mon/a,osd/0,run,log,rgw,pids,crash}
  trap 'rc=$?; if ((rc != 0)); then log "start failed; log tails:"; tail -n 12 "$DIR"/log/*.out "$DIR"/log/setup.log >&2 2>/dev/null || true; stop_all; fi' EXIT

  local fsid osd_uuid access secret
  fsid="$(uuidgen)"
  osd_uuid="$(uuidgen)"
  access="${RGW_ACCESS_KEY:-COFFRE$(uuidgen | tr -d - | tr a-z A-Z | cut -c1-14)}"
  secret="${RGW_SECRET_KEY:-$(uuidgen | tr -d -)$(uuidgen | tr -d - | cut -c1-8)}"
  write_conf "$fsid"

  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]" \
    "$DIR/monmap" >>"$DIR/log/setup.log" 2>&1
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" >>"$DIR/log/setup.log" 2>&1
  spawn mon.a ceph-mon -c "$CONF" -i a
  wait_until "the monitor" 30 ceph_cmd mon stat

  local osd_id
  osd_id="$(ceph_cmd osd new "$osd_uuid" 2>>"$DIR/log/setup.log")"
  [[ "$osd_id" == 0 ]] || die "ceph osd new returned '$osd_id', expected 0"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$DIR/log/setup.log" 2>&1
  spawn osd.0 ceph-osd -c "$CONF" -i 0
  wait_until "osd.0 to come up" 60 bash -c "timeout 20 ceph -c '$CONF' osd dump 2>/dev/null | grep -q '^osd.0 up'"

  # creates the realm/zone and the rgw pools as a side effect
  timeout 60 radosgw-admin -c "$CONF" -n client.rgw.coffre user create --uid=coffre-test --display-name=coffre-test \
    --access-key="$access" --secret="$secret" >>"$DIR/log/setup.log" 2>&1 || die "radosgw-admin user create failed"
  spawn radosgw radosgw -c "$CONF" -n client.rgw.coffre
  local deadline=$((SECONDS + START_TIMEOUT))
  until s3_answers; do
    live_pid radosgw radosgw >/dev/null || die "radosgw exited during start"
    ((SECONDS < deadline)) || die "timed out waiting for S3 on $ENDPOINT"
    sleep 0.2
  done

  umask 077
  cat >"$DIR/env" <<EOF
COFFRE_TEST_S3_ENDPOINT=$ENDPOINT
AWS_ACCESS_KEY_ID=$access
AWS_SECRET_ACCESS_KEY=$secret
AWS_REGION=us-east-1
EOF
  trap - EXIT
  log "S3 ready on $ENDPOINT in $((SECONDS - t0)) s"
  print_env
}

status() {
  local entry name comm pid
  for entry in "${DAEMONS[@]}"; do
    IFS=: read -r name comm <<<"$entry"
    if pid="$(live_pid "$name" "$comm")"; then echo "$name running (pid $pid)"; else echo "$name not running"; fi
  done
  if all_running; then echo "S3 answers on $ENDPOINT"; return 0; fi
  if s3_answers; then echo "S3 answers on $ENDPOINT, but not from daemons started in $DIR"; else echo "S3 not answering on $ENDPOINT"; fi
  return 1
}

# One start/stop at a time per directory (two CI steps racing would otherwise both mkfs).
if command -v flock >/dev/null 2>&1; then
  exec 9>"${DIR%/}.lock"
  flock -w 120 9 || die "another rgw.sh holds ${DIR%/}.lock"
fi

case "${1:-}" in
  start) start ;;
  stop) stop_all; log "stopped" ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
