#!/usr/bin/env bash
# What the remote-store tests (tests/test_remote_store.py, tests/test_queries_portable.py) need besides the
# Python packages of the `dev` extra: Virtuoso open source 7 from the distribution (Debian/Ubuntu:
# virtuoso-opensource), whose server binary tests/virtuoso.py starts on 127.0.0.1 with a temporary database.
# The package's own service is not used: it is stopped and kept from starting at boot when the package
# installs it.
set -euo pipefail
if command -v virtuoso-t >/dev/null 2>&1 && [ -f /etc/virtuoso-opensource-7/virtuoso.ini ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# the package asks for a DBA password on install; an empty answer keeps the default, which the tests never use
echo "virtuoso-opensource-7 virtuoso-opensource-7/dba-password password " | $SUDO debconf-set-selections || true
echo "virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password " | $SUDO debconf-set-selections || true
$SUDO apt-get update -qq
# no service started by the package's scripts (policy-rc.d 101: "action not allowed")
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=""
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod +x "$POLICY"
    ADDED_POLICY=1
fi
$SUDO apt-get install -y -qq --no-install-recommends virtuoso-opensource
if [ -n "$ADDED_POLICY" ]; then
    $SUDO rm -f "$POLICY"
fi
virtuoso-t --help 2>&1 | head -n 1 || true
