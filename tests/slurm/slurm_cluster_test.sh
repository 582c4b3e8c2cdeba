#!/usr/bin/env bash
# A real Slurm cluster on this machine: install slurm-wlm and munge when missing, start
# munged, slurmctld and slurmd with a generated slurm.conf, submit a job array of 8 runs of
# a tiny sweep through 'modlab-cli sweep slurm --submit', wait for it, run 'report', check
# that the CSV has every run, and shut the cluster down.
# usage: slurm_cluster_test.sh /path/to/modlab-cli
set -euo pipefail
cli=$(realpath "$1")
[ "$(id -u)" -eq 0 ] || { echo "SKIP: the single-node cluster needs root"; exit 77; }

need=""
for pkg in slurm-wlm munge; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need="$need $pkg"
done
if [ -n "$need" ]; then
  echo "installing$need"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

work=$(mktemp -d /tmp/modlab-slurm.XXXXXX)
chmod 755 "$work"
host=$(hostname -s)
cleanup() {
  for pid in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munged.pid"; do
    [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
  done
  sleep 1
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

# munge: a fresh key and socket for this test only.
mkdir -p "$work/munge" /run/munge
chown munge:munge "$work/munge" /run/munge 2>/dev/null || true
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chown munge:munge "$work/munge/munge.key"
chmod 400 "$work/munge/munge.key"
socket="$work/munge/munge.socket"
munged --force --key-file="$work/munge/munge.key" --socket="$socket" --pid-file="$work/munged.pid" \
       --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed"
export MUNGE_SOCKET="$socket"

memory=$(awk '/MemTotal/ {print int($2/1024*0.8)}' /proc/meminfo)
cat > "$work/slurm.conf" <<CONF
ClusterName=modlabtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CryptoType=crypto/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
NodeName=$host CPUs=$(nproc) RealMemory=$memory State=UNKNOWN
PartitionName=modlab Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF="$work/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for i in $(seq 1 60); do
  sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed' && break
  sleep 1
done
sinfo -h -o '%T' | grep -qE 'idle|mixed' || { echo "FAIL: the node never became idle"; cat "$work/slurmctld.log" "$work/slurmd.log" | tail -30; exit 1; }

# A tiny sweep of 8 runs (2 tasks x 4 rule counts), one array task each.
cat > "$work/grid.json" <<GRID
{
  "name": "slurm-test",
  "settings": ["mlp"],
  "tasks": ["classification", "regression"],
  "rules": [2, 4, 8, 16],
  "sizes": [8],
  "base": {"mlp": {"steps": 40, "eval_every": 20, "batch_size": 32, "eval_batches": 1,
                   "matrix_samples": 256, "adaptation_priors": 2, "adaptation_samples": 128, "threads": 1}}
}
GRID
"$cli" sweep plan --grid "$work/grid.json" --out "$work/sweep"
submitted=$("$cli" sweep slurm "$work/sweep" --partition modlab --cpus 1 --mem 1 --time 00:10:00 --submit)
echo "$submitted"
job=$(echo "$submitted" | sed -n 's/^submitted job \([0-9_]*\).*/\1/p')
[ -n "$job" ] || { echo "FAIL: no job id from sbatch"; exit 1; }
for i in $(seq 1 300); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 2
done
[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] || { echo "FAIL: job $job still queued after 10 minutes"; squeue; exit 1; }

"$cli" report "$work/sweep" --out "$work/report"
rows=$(($(wc -l < "$work/report/runs.csv") - 1))
echo "runs.csv: $rows rows"
if [ "$rows" -ne 32 ]; then
  echo "FAIL: expected 8 runs x 4 families = 32 rows"
  ls "$work/sweep/slurm/logs"; tail -n 20 "$work/sweep/slurm/logs/"* || true
  exit 1
fi
for stem in fig3-ranking fig4-performance fig5-metrics-vs-rules fig6-metrics-per-model fig7-training-curves; do
  [ -s "$work/report/$stem.png" ] || { echo "FAIL: $stem.png missing"; exit 1; }
done
echo "PASS: 8 array tasks ran on Slurm job $job and the report has every run"
