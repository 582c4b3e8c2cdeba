#!/usr/bin/env bash
# A real Slurm cluster on this machine: install slurm-wlm and munge when missing, start
# munged, slurmctld and slurmd with a generated slurm.conf (MaxArraySize=5, MaxTime 20 minutes), submit a tiny
# sweep of 8 runs through 'modlab-cli sweep slurm --submit' called from PATH in another
# folder (two arrays: 5 + 3 tasks), wait for them, run 'report', check that the CSV has every
# run; then a run longer than its time limit, stopped by Slurm's signal at a checkpoint and
# finished by the next submission; and shut the cluster down.
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
PartitionName=modlab Nodes=ALL Default=YES MaxTime=20 State=UP
MaxArraySize=5
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
# Called as a bare name from PATH, in a folder where no modlab-cli is: the script must name the
# program's real path, not <this folder>/modlab-cli.
mkdir -p "$work/bin" "$work/elsewhere"
ln -s "$cli" "$work/bin/modlab-cli"
submitted=$(cd "$work/elsewhere" && PATH="$work/bin:$PATH" modlab-cli sweep slurm "$work/sweep" --partition modlab --mem 1 --submit)
echo "$submitted"
grep -q "^default_cli='$cli'$" "$work/sweep/slurm/array.sh" || { echo "FAIL: array.sh does not name $cli"; grep default_cli "$work/sweep/slurm/array.sh"; exit 1; }
grep -q "2 arrays of at most 5 tasks (MaxArraySize 5, from scontrol show config)" <<<"$submitted" || { echo "FAIL: the sweep was not split for MaxArraySize 5"; exit 1; }
# The default time limit (the plan's estimate x3, at least 30 minutes) is over the partition's 20.
grep -q "^#SBATCH --time=20:00$" "$work/sweep/slurm/array.sh" || { echo "FAIL: the time limit is not the partition's"; grep -- --time "$work/sweep/slurm/array.sh"; exit 1; }
grep -q "over the partition's time limit" <<<"$submitted" || { echo "FAIL: the capped time limit was not said"; exit 1; }
jobs=$(echo "$submitted" | sed -n 's/^submitted job \([0-9_]*\).*/\1/p')
[ "$(echo "$jobs" | wc -w)" -eq 2 ] || { echo "FAIL: expected two job ids from sbatch, got: $jobs"; exit 1; }
wait_for() {
  for i in $(seq 1 300); do
    [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
    sleep 2
  done
  echo "FAIL: job $1 still queued after 10 minutes"; squeue; exit 1
}
for job in $jobs; do wait_for "$job"; done

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
echo "8 array tasks ran in two arrays ($(echo $jobs)) and the report has every run"

# A run longer than its time limit: Slurm signals it a minute before the end, it stops at a
# checkpoint; the next submission resumes it from there and finishes it.
cat > "$work/long.json" <<GRID
{
  "name": "slurm-long", "settings": ["mlp"], "tasks": ["regression"], "rules": [2], "sizes": [8],
  "families": ["Monolithic", "Modular"],
  "base": {"mlp": {"steps": 150000, "eval_every": 5000, "batch_size": 32, "eval_batches": 1,
                   "matrix_samples": 256, "adaptation_priors": 2, "adaptation_samples": 128, "threads": 1}}
}
GRID
"$cli" sweep plan --grid "$work/long.json" --out "$work/long"
first=$("$cli" sweep slurm "$work/long" --partition modlab --cpus 1 --mem 1 --time 00:02:00 --submit | sed -n 's/^submitted job \([0-9_]*\).*/\1/p')
wait_for "$first"
run=$(ls -d "$work/long/runs/"*)
grep -q '"status": "stopped"' "$run/run.json" || { echo "FAIL: the run was not stopped at its time limit"; cat "$run/run.json"; tail -n 20 "$work/long/slurm/logs/"*; exit 1; }
stopped=$(sed -n 's/.*"steps_done": \([0-9]*\).*/\1/p' "$run/run.json")
echo "stopped by the time limit at step $stopped"
second=$("$cli" sweep slurm "$work/long" --partition modlab --cpus 1 --mem 1 --time 00:10:00 --submit | sed -n 's/^submitted job \([0-9_]*\).*/\1/p')
wait_for "$second"
grep -q '"status": "finished"' "$run/run.json" || { echo "FAIL: the resubmission did not finish the run"; tail -n 20 "$work/long/slurm/logs/"*; exit 1; }
"$cli" sweep status "$work/long" | grep -q "finished *1" || { echo "FAIL: sweep status does not count it finished"; exit 1; }
echo "PASS: a sweep split for MaxArraySize 5 ran from PATH, and a run cut by its time limit was resumed and finished"
