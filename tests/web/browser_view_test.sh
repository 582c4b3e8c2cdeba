#!/usr/bin/env bash
# The browser view in a real browser: headless Chromium driven by Selenium (Debian's chromium,
# chromium-driver and python3-selenium, which packaging/quickstart installs). Skips, with its
# reason, when one is missing.
# usage: browser_view_test.sh MODLAB_CLI SCREENSHOT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for tool in /usr/bin/chromium /usr/bin/chromedriver /usr/bin/python3; do
  [ -x "$tool" ] || { echo "SKIP: $tool is not installed (packaging/quickstart installs chromium, chromium-driver and python3-selenium)"; exit 77; }
done
/usr/bin/python3 -c "import selenium" 2>/dev/null || { echo "SKIP: python3-selenium is not installed (packaging/quickstart installs it)"; exit 77; }
exec /usr/bin/python3 "$here/browser_view_test.py" "$@"
