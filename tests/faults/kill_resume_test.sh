#!/usr/bin/env bash
# kill -9 at random points, then --resume: every run must end byte-identical to one never
# interrupted (metrics.csv; activations.jsonl without its wall times). Kills before the
# first checkpoint resume from scratch; kills before the run folder exists train afresh.
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

start=$(date +%s.%N)
"$cli" train "${args[@]}" --out "$work/whole" >/dev/null
wall=$(python3 -c "import time; print(time.time() - $start)")
echo "uninterrupted run: ${wall} s"
RANDOM=20261129  # the kill points are reproducible
matched=0
for i in $(seq 1 "$kills"); do
  run="$work/run-$i"
  delay=$(python3 -c "print(round($wall * $RANDOM / 32767, 3))")
  "$cli" train "${args[@]}" --out "$run" >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  checkpoint=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('checkpoint_step',-1))" "$run/run.json" 2>/dev/null || echo none)
  if [ -f "$run/config.json" ]; then
    "$cli" train --out "$run" --resume --quiet >/dev/null 2>"$work/err" || { cat "$work/err"; echo "FAIL: resume $i"; exit 1; }
  else
    "$cli" train "${args[@]}" --out "$run" >/dev/null 2>"$work/err" || { cat "$work/err"; echo "FAIL: fresh $i"; exit 1; }
  fi
  if cmp -s "$run/metrics.csv" "$work/whole/metrics.csv" &&
     [ "$(matrices "$run/activations.jsonl")" = "$(matrices "$work/whole/activations.jsonl")" ]; then
    matched=$((matched + 1))
    echo "kill $i at ${delay} s (checkpoint step $checkpoint): resumed to the identical result"
  else
    echo "kill $i at ${delay} s (checkpoint step $checkpoint): DIFFERS"
    diff <(head -c 2000 "$run/metrics.csv") <(head -c 2000 "$work/whole/metrics.csv") | head -20 || true
  fi
  rm -rf "$run"
done
echo "$matched/$kills kill -9 + resume cycles match the uninterrupted run"
[ "$matched" -eq "$kills" ]
