#!/usr/bin/env bash
# A fresh machine lacks what this one may have installed by hand. The suite's optional parts
# are run here with their tools absent (a PATH without them, or as an ordinary user): each must
# skip with its reason (exit 77 and a "SKIP: ..." line), never fail.
# usage: fresh_machine_test.sh BUILD_DIR MODLAB_CLI
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "$1")
cli=$(realpath "$2")
work=$(mktemp -d /tmp/modlab-fresh.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
# A PATH with the shell's basic tools and nothing optional (no clang++, python3, Slurm,
# dpkg-deb, lintian, mount, chromium).
mkdir -p "$work/bin"
for tool in bash sh env cat grep sed awk mktemp rm mkdir ls id dirname basename realpath head tail tr cut \
            sort wc date sleep printf stat cmp seq chmod cp mv touch uname nproc; do
  path=$(command -v "$tool") && ln -s "$path" "$work/bin/$tool"
done
status=0
expect_skip() {  # expect_skip NAME COMMAND...
  local name=$1 out rc
  shift
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -eq 77 ] && grep -q '^SKIP: ' <<<"$out"; then
    echo "$name: skips ($(grep -m1 '^SKIP: ' <<<"$out"))"
  else
    echo "FAIL: $name exited $rc without a reasoned skip:"
    head -20 <<<"$out"
    status=1
  fi
}
expect_skip "fuzz_readers without clang++" env PATH="$work/bin" "$here/fuzz/run_fuzzers.sh" "$work/fuzz" 1
expect_skip "browser_view without chromium" env PATH="$work/bin" "$here/web/browser_view_test.sh" "$cli" "$work/shots"
if [ "$(id -u)" -eq 0 ]; then
  # As an ordinary user, the parts that need root skip instead of failing.
  # The scripts are copied where that user can read them (a checkout may be in root's home).
  user=nobody
  cp "$here/slurm/slurm_cluster_test.sh" "$here/faults/disk_full_test.sh" "$here/package/package_test.sh" "$work/"
  touch "$work/modlab-cli" && mkdir -p "$work/build"
  chmod -R a+rX "$work"
  run_as=(setpriv --reuid="$(id -u $user)" --regid="$(id -g $user)" --clear-groups env PATH="$work/bin" HOME="$work")
  expect_skip "slurm_cluster as $user" "${run_as[@]}" "$work/slurm_cluster_test.sh" "$work/modlab-cli"
  expect_skip "disk_full as $user" "${run_as[@]}" "$work/disk_full_test.sh" "$work/modlab-cli"
  expect_skip "package as $user" "${run_as[@]}" "$work/package_test.sh" "$work/build"
else
  for t in "slurm/slurm_cluster_test.sh $cli" "faults/disk_full_test.sh $cli" "package/package_test.sh $build"; do
    set -- $t
    expect_skip "${1%%/*} (not root)" env PATH="$work/bin" "$here/$1" "$2"
  done
fi
exit $status
