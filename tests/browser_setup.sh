#!/usr/bin/env bash
# What the browser test (tests/test_browser.py) needs besides the Python packages of the `dev` extra:
# Chromium from the distribution (Debian/Ubuntu: chromium, chromium-driver), at /usr/bin/chromium.
# Playwright drives that binary; `playwright install` (which downloads browsers) is not used.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver
/usr/bin/chromium --version
