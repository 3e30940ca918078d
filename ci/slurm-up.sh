#!/usr/bin/env bash
# Starts a single-node Slurm cluster on loopback for the tests of `lenetlab slurm` (tests/slurm/):
# Debian's slurm-wlm and munge (installed when missing, as root), a private munge key and socket,
# a slurm.conf with this machine's real CPUs and memory (`slurmd -C`), and slurmctld and slurmd
# daemonised with their pid files under the state directory. Nothing under /etc is changed: the
# cluster is reached through SLURM_CONF (printed last, as `export SLURM_CONF=...`).
#
#   bash ci/slurm-up.sh [--lease] [--install-only] [STATE_DIR]
#   bash ci/slurm-down.sh [--lease] [STATE_DIR]   # stops exactly the daemons started here, by pid
# STATE_DIR defaults to $LENETLAB_SLURM_DIR, else /var/tmp/lenetlab-slurm (one cluster per machine:
# the ports are fixed). --lease records the calling process ($PPID, e.g. ctest) as a user of the
# cluster; slurm-down.sh --lease drops that lease and stops the daemons only when no other live
# process holds one, so test suites of two build trees running at once do not stop each other's
# cluster. --install-only installs the missing packages and exits (ci/test.sh).
#
# Idempotent: daemons whose pid file names a live process are left running. Waits until the node is
# idle (at most 60 s). Exit status: 0 ready, 1 failure (the daemons' logs are printed), 77 when
# Slurm is missing and cannot be installed (not root, no apt-get): the caller may skip.
set -euo pipefail

lease="" install_only=""
while (($#)); do
  case $1 in
    --lease) lease=$PPID; shift ;;
    --install-only) install_only=1; shift ;;
    *) break ;;
  esac
done
state=$(realpath -m "${1:-${LENETLAB_SLURM_DIR:-/var/tmp/lenetlab-slurm}}")
ctld_port=${LENETLAB_SLURM_PORT:-6817}

packages=(slurm-wlm munge)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "slurm-up: ${missing[*]} missing and not root with apt-get: cannot start a cluster" >&2
    exit 77
  fi
  echo "slurm-up: installing ${missing[*]}" >&2
  apt-get update -qq
  # The packages' own services are not wanted (and systemd is usually absent in CI containers).
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
fi
[[ -z $install_only ]] || exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "slurm-up: slurmd must run as root (it starts jobs as their users)" >&2
  exit 77
fi

mkdir -p "$state"/{ctld,spool,log,munge,leases}
[[ -z $lease ]] || touch "$state/leases/$lease"
chmod 755 "$state" "$state/ctld" "$state/spool" "$state/log"
chmod 700 "$state/munge"

alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# munge: a private key and socket, so a host's own munged (if any) is left alone.
key=$state/munge/munge.key
socket=$state/munge/munge.socket
if [[ ! -s $key ]]; then
  mungekey --create --keyfile="$key" --force
  chmod 600 "$key"
fi
if ! alive "$state/munge/munged.pid"; then
  munged --key-file="$key" --socket="$socket" --pid-file="$state/munge/munged.pid" \
    --log-file="$state/log/munged.log" --seed-file="$state/munge/munged.seed" --force
fi

# slurm.conf: this node as `slurmd -C` describes it, on 127.0.0.1; no accounting daemon (sacct is
# then unavailable: `lenetlab slurm status` falls back to squeue).
node=$(hostname -s)
node_line=$(slurmd -C | head -n 1 | sed -E 's/^NodeName=[^ ]+ //')
conf=$state/slurm.conf
cat >"$conf.new" <<EOF
# Written by lenetlab ci/slurm-up.sh: a single-node test cluster on loopback.
ClusterName=lenetlab
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$((ctld_port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
KillWait=10
SchedulerParameters=sched_interval=2
NodeName=$node NodeAddr=127.0.0.1 $node_line State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
# A changed configuration (another CPU count, memory) needs the daemons restarted.
if [[ -f $conf ]] && ! cmp -s "$conf" "$conf.new"; then
  bash "$(dirname "$0")/slurm-down.sh" "$state" >/dev/null
fi
mv "$conf.new" "$conf"
export SLURM_CONF=$conf

if ! alive "$state/slurmctld.pid"; then slurmctld -f "$conf"; fi
if ! alive "$state/slurmd.pid"; then slurmd -f "$conf"; fi

for _ in $(seq 1 120); do
  nodestate=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
  case $nodestate in
    idle* | mixed* | allocated*) echo "export SLURM_CONF=$conf"; exit 0 ;;
    down* | drain*) scontrol update nodename="$node" state=resume 2>/dev/null || true ;;
  esac
  sleep 0.5
done
echo "slurm-up: the node did not become idle within 60 s (state '${nodestate:-none}'); logs:" >&2
tail -n 20 "$state"/log/*.log >&2 || true
exit 1
