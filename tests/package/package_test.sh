#!/usr/bin/env bash
# The Debian package, as a user or a lab admin meets it: build the .deb (CPack), check it
# with lintian (no errors), install it with dpkg, run the installed programs (version,
# presets, a 50-step training run, the app offscreen), remove it, and check that nothing
# of it is left in /usr. Needs root (dpkg); skipped otherwise.
# usage: package_test.sh BUILD_DIR
set -euo pipefail
build=$(realpath "$1")
[ "$(id -u)" -eq 0 ] || { echo "SKIP: installing a package needs root"; exit 77; }
for tool in lintian dpkg-shlibdeps desktop-file-validate appstreamcli; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (packaging/quickstart installs it)"; exit 1; }
done
work=$(mktemp -d /tmp/modlab-package.XXXXXX)
trap 'dpkg -r modularity-lab >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

linux=$(cd "$(dirname "$0")/../../packaging/linux" && pwd)
desktop-file-validate "$linux/org.modularitylab.ModularityLab.desktop"
appstreamcli validate --no-net "$linux/org.modularitylab.ModularityLab.metainfo.xml"

(cd "$build" && cpack -G DEB -B "$work" >"$work/cpack.log") || { cat "$work/cpack.log"; echo "FAIL: cpack"; exit 1; }
deb=$(ls "$work"/modularity-lab_*.deb)
echo "built $(basename "$deb")"
dpkg-deb --field "$deb" Depends
dpkg-deb --contents "$deb" | awk '{print $6}' > "$work/contents.txt"
for f in ./usr/bin/modlab ./usr/bin/modlab-cli ./usr/share/applications/org.modularitylab.ModularityLab.desktop \
         ./usr/share/metainfo/org.modularitylab.ModularityLab.metainfo.xml \
         ./usr/share/icons/hicolor/scalable/apps/org.modularitylab.ModularityLab.svg \
         ./usr/share/icons/hicolor/48x48/apps/org.modularitylab.ModularityLab.png \
         ./usr/share/man/man1/modlab.1.gz ./usr/share/man/man1/modlab-cli.1.gz \
         ./usr/share/bash-completion/completions/modlab-cli ./usr/share/doc/modularity-lab/copyright \
         ./usr/lib/modlab/preload/libmodlab_sgemm.so; do
  grep -qx "$f" "$work/contents.txt" || { echo "FAIL: $f is not in the package"; exit 1; }
done
dpkg-deb --field "$deb" Depends | grep -q libopenblas0-pthread || { echo "FAIL: Depends lacks libopenblas0-pthread"; exit 1; }
dpkg-deb --field "$deb" Depends | grep -q fonts-dejavu-core || { echo "FAIL: Depends lacks fonts-dejavu-core"; exit 1; }

lintian --tag-display-limit 0 "$deb" > "$work/lintian.txt" 2>&1 || true
cat "$work/lintian.txt"
if grep -q '^E:' "$work/lintian.txt"; then echo "FAIL: lintian reports errors"; exit 1; fi

dpkg -i "$deb" >/dev/null
cd "$work"
version=$(/usr/bin/modlab-cli --version)
echo "installed: $version"
/usr/bin/modlab-cli presets | grep -q "(default demo)"
/usr/bin/modlab-cli info | grep -E '^GEMM +'  # the library that computes the products, and how it was chosen
/usr/bin/modlab-cli train --preset demo-mlp-few-rules --set steps=50 --set eval_every=25 --quiet --out "$work/run" | tail -2
grep -q '"status": "finished"' "$work/run/run.json"
env -u QT_QPA_PLATFORM -u DISPLAY -u WAYLAND_DISPLAY /usr/bin/modlab --version | grep -q "${version#modlab-cli }"  # no display needed
zcat /usr/share/man/man1/modlab-cli.1.gz | grep -q '^.SS train'
zcat /usr/share/man/man1/modlab-cli.1.gz | grep -q '^.SH EXIT STATUS'
zcat /usr/share/man/man1/modlab-cli.1.gz | grep -q '^learning_rate '  # the config keys, from 'config keys'
/usr/bin/modlab-cli config show demo-mlp-few-rules > "$work/preset.json"
/usr/bin/modlab-cli train --config "$work/preset.json" --set steps=20 --set eval_every=10 --quiet --out "$work/from-show" >/dev/null
bash -c 'source /usr/share/bash-completion/completions/modlab-cli && COMP_WORDS=(modlab-cli tr) COMP_CWORD=1 && _modlab_cli && [ "${COMPREPLY[*]}" = train ]'
# Completion: folders with their "/" for a run or sweep, grid names for --grid, nothing for --jobs.
(cd "$work" && bash -c 'source /usr/share/bash-completion/completions/modlab-cli && COMP_WORDS=(modlab-cli eval fro) COMP_CWORD=2 && _modlab_cli && [ "${COMPREPLY[*]}" = from-show/ ]')
bash -c 'source /usr/share/bash-completion/completions/modlab-cli && COMP_WORDS=(modlab-cli sweep plan --grid paper-l) COMP_CWORD=4 && _modlab_cli && [ "${COMPREPLY[*]}" = paper-lite ]'
bash -c 'source /usr/share/bash-completion/completions/modlab-cli && COMP_WORDS=(modlab-cli sweep run x --jobs "") COMP_CWORD=5 && _modlab_cli && [ ${#COMPREPLY[@]} -eq 0 ]'
appstreamcli validate --no-net /usr/share/metainfo/org.modularitylab.ModularityLab.metainfo.xml

dpkg -r modularity-lab >/dev/null
left=$(grep -E '^\./usr/.+[^/]$' "$work/contents.txt" | sed 's|^\.||' | while read -r f; do [ -e "$f" ] && echo "$f"; done || true)
[ -z "$left" ] || { echo "FAIL: left behind after removal:"; echo "$left"; exit 1; }
echo "PASS: built, lintian-clean, installed, ran, removed without a trace"
