#!/usr/bin/env bash
# Stops the single-node test cluster ci/slurm-up.sh started: exactly the slurmd, slurmctld and
# munged whose pid files are under the state directory (SIGTERM, then SIGKILL after 10 s). Other
# Slurm or munge daemons of the host are left alone. Idempotent; the state directory stays (a
# later slurm-up.sh reuses its key).
#   bash ci/slurm-down.sh [--lease] [STATE_DIR]   # default $LENETLAB_SLURM_DIR, else
#                                                 # /var/tmp/lenetlab-slurm
# --lease: drop the lease of the calling process ($PPID, see slurm-up.sh) and stop the daemons only
# when no other live process holds a lease.
set -uo pipefail

lease=""
if [[ ${1:-} == --lease ]]; then
  lease=$PPID
  shift
fi
state=$(realpath -m "${1:-${LENETLAB_SLURM_DIR:-/var/tmp/lenetlab-slurm}}")

if [[ -n $lease ]]; then
  rm -f "$state/leases/$lease"
  for held in "$state"/leases/*; do
    [[ -e $held ]] || continue
    if kill -0 "$(basename "$held")" 2>/dev/null; then
      echo "slurm-down: process $(basename "$held") still uses the cluster: left running"
      exit 0
    fi
    rm -f "$held"  # its process is gone
  done
fi

stop() {
  local pidfile=$1 name=$2 pid
  [[ -s $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  # The pid must still be the daemon it names (a reused pid belongs to someone else).
  if kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]]; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "slurm-down: stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
}

stop "$state/slurmd.pid" slurmd
stop "$state/slurmctld.pid" slurmctld
stop "$state/munge/munged.pid" munged
