#!/usr/bin/env bash
# A disk that fills mid-run (a small tmpfs): the run must end "failed" with a message that
# names the file and the OS error, never "finished"; once space is back, --resume must reach
# exactly the uninterrupted result. Needs root (mount); skipped otherwise.
# usage: disk_full_test.sh /path/to/modlab-cli
set -euo pipefail
cli=$(realpath "$1")
[ "$(id -u)" -eq 0 ] || { echo "SKIP: mounting a small tmpfs needs root"; exit 77; }
work=$(mktemp -d /tmp/modlab-full.XXXXXX)
disk="$work/disk"
mkdir -p "$disk"
cleanup() { umount "$disk" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
args=(--preset demo-mlp-few-rules --set size=32 --set batch_size=64 --set steps=1500 --set eval_every=100
      --set eval_batches=1 --set matrix_samples=512 --set adaptation_priors=4 --set adaptation_samples=256
      --set threads=1 --quiet)
"$cli" train "${args[@]}" --out "$work/whole" >/dev/null
need=$(du -sk "$work/whole" | cut -f1)
# The final folder keeps two checkpoint generations; writing a third needs more room, so
# with 90% of the final size the disk fills in the middle of the run.
size=$((need * 9 / 10))
mount -t tmpfs -o size=${size}k tmpfs "$disk" 2>/dev/null || { echo "SKIP: this machine does not allow mounting a tmpfs"; exit 77; }
set +e
"$cli" train "${args[@]}" --out "$disk/run" >"$work/out" 2>"$work/err"
code=$?
set -e
echo "with ${size} KiB of the ${need} KiB needed: exit $code: $(cat "$work/err")"
[ "$code" -ne 0 ] || { echo "FAIL: the run said it finished on a full disk"; exit 1; }
grep -q "No space left on device" "$work/err" || { echo "FAIL: the error does not name the OS error"; exit 1; }
grep -qE "(metrics.csv|activations.jsonl|\.pt|manifest.json|latest|run.json)" "$work/err" || { echo "FAIL: the error names no file"; exit 1; }
status=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['status'])" "$disk/run/run.json")
steps=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['steps_done'])" "$disk/run/run.json")
echo "run.json says: $status at step $steps"
[ "$steps" -gt 0 ] || { echo "FAIL: the disk filled before training started (the test needs a mid-run failure)"; exit 1; }
[ "$status" = failed ] || { echo "FAIL: run.json says '$status', not failed"; exit 1; }
if grep -q "terminate called\|Exception raised from" "$work/err"; then echo "FAIL: an abort or a stack trace"; exit 1; fi
# Space is back: the run resumes to the uninterrupted result.
mount -o remount,size=$((need * 4))k "$disk"
"$cli" train --out "$disk/run" --resume --quiet >/dev/null
cmp "$disk/run/metrics.csv" "$work/whole/metrics.csv" || { echo "FAIL: the resumed run differs"; exit 1; }
echo "PASS: a full disk ended in a clean failed run that resumed to the identical result"
