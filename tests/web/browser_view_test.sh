#!/usr/bin/env bash
# The browser view in a real browser: headless Chromium driven by Selenium (Debian's chromium,
# chromium-driver and python3-selenium, which packaging/quickstart installs), found on PATH.
# Skips, with its reason, when one is missing.
# usage: browser_view_test.sh MODLAB_CLI SCREENSHOT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for tool in chromium chromedriver; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (packaging/quickstart installs chromium and chromium-driver)"; exit 77; }
done
python=
for candidate in $(type -ap python3); do  # the first python3 on PATH that has Selenium (a pyenv one may not)
  if "$candidate" -c "import selenium" 2>/dev/null; then python=$candidate; break; fi
done
[ -n "$python" ] || { echo "SKIP: no python3 with Selenium on PATH (packaging/quickstart installs python3-selenium)"; exit 77; }
CHROMIUM=$(command -v chromium) CHROMEDRIVER=$(command -v chromedriver) exec "$python" "$here/browser_view_test.py" "$@"
