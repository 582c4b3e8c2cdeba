#!/usr/bin/env bash
# kill -9 at points of the run's own phases, then --resume: every run must end byte-identical
# to one never interrupted (metrics.csv; activations.jsonl without its wall times). Kills
# before the first checkpoint resume from scratch; kills before config.json exists train
# afresh into the same folder (what an interrupted create leaves is reused).
# usage: kill_resume_test.sh /path/to/modlab-cli [KILLS]
set -euo pipefail
cli=$(realpath "$1")
kills=${2:-20}
work=$(mktemp -d /tmp/modlab-kill.XXXXXX)
trap 'rm -rf "$work"' EXIT
args=(--preset demo-mlp-few-rules --set size=8 --set batch_size=64 --set steps=1200 --set eval_every=100
      --set eval_batches=1 --set matrix_samples=512 --set adaptation_priors=4 --set adaptation_samples=256
      --set threads=1 --quiet)

matrices() {  # activations.jsonl without the wall time and the checksum that covers it
  python3 -c 'import json,sys
for line in open(sys.argv[1]):
    o=json.loads(line); o.pop("wall_seconds",None); o.pop("crc32",None); print(json.dumps(o,sort_keys=True))' "$1"
}

"$cli" train "${args[@]}" --out "$work/whole" >/dev/null
final_bytes=$(stat -c %s "$work/whole/metrics.csv")

# Kill points come from the run's own phases, never from one machine's wall time: the
# folder appearing, its lock, config.json, checkpoints/, run.json, then metrics.csv reaching
# a share of its final size. The kill lands as soon as the phase is seen (polled every 0.2 ms).
kill_at() {  # kill_at RUN KIND ARG: train into RUN, kill -9 when the phase KIND (ARG) is reached
  python3 - "$@" "$cli" "${args[@]}" <<'PY'
import os, signal, subprocess, sys, time
run, kind, arg, cli, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
p = subprocess.Popen([cli, "train", *args, "--out", run], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def reached():
    if kind == "exists":
        return os.path.lexists(os.path.join(run, arg) if arg != "." else run)
    try:
        return os.path.getsize(os.path.join(run, "metrics.csv")) >= int(arg)
    except OSError:
        return False
while p.poll() is None and not reached():
    time.sleep(0.0002)
if p.poll() is None:
    os.kill(p.pid, signal.SIGKILL)
    print("killed")
else:
    print("ended before the kill point")
p.wait()
PY
}

points=("exists ." "exists .lock" "exists config.json" "exists checkpoints" "exists run.json")
RANDOM=20261129  # the sizes are reproducible
while [ "${#points[@]}" -lt "$kills" ]; do
  points+=("bytes $((final_bytes * RANDOM / 32768))")
done
matched=0
for i in $(seq 1 "$kills"); do
  run="$work/run-$i"
  point=${points[$((i - 1))]}
  outcome=$(kill_at "$run" $point)
  delay="$point ($outcome)"
  checkpoint=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('checkpoint_step',-1))" "$run/run.json" 2>/dev/null || echo none)
  if [ -f "$run/config.json" ]; then
    "$cli" train --out "$run" --resume --quiet >/dev/null 2>"$work/err" || { cat "$work/err"; echo "FAIL: resume $i"; exit 1; }
  else
    "$cli" train "${args[@]}" --out "$run" >/dev/null 2>"$work/err" || { cat "$work/err"; echo "FAIL: fresh $i"; exit 1; }
  fi
  if cmp -s "$run/metrics.csv" "$work/whole/metrics.csv" &&
     [ "$(matrices "$run/activations.jsonl")" = "$(matrices "$work/whole/activations.jsonl")" ]; then
    matched=$((matched + 1))
    echo "kill $i at ${delay} (checkpoint step $checkpoint): resumed to the identical result"
  else
    echo "kill $i at ${delay} (checkpoint step $checkpoint): DIFFERS"
    diff <(head -c 2000 "$run/metrics.csv") <(head -c 2000 "$work/whole/metrics.csv") | head -20 || true
  fi
  rm -rf "$run"
done
echo "$matched/$kills kill -9 + resume cycles match the uninterrupted run"
[ "$matched" -eq "$kills" ]
