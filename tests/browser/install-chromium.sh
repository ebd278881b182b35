#!/usr/bin/env bash
# Headless Chromium for the dashboard's browser tests: the Debian package, installed where we can.
# Never fails the build: where Chromium cannot be installed it says why, and the tests skip.
set -u

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  echo "browser tests: Chromium present at $chromium"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "browser tests: Chromium missing and not root, so not installed here; the browser tests will be skipped" \
    "(install the Debian package 'chromium' or set CHROMIUM_PATH)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "browser tests: Chromium missing and no apt-get on this machine; the browser tests will be skipped"
  exit 0
fi
echo "browser tests: installing the Debian package 'chromium' (about a minute)"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq chromium >/dev/null; then
  echo "browser tests: Chromium installed at $(command -v chromium)"
else
  echo "browser tests: apt-get could not install chromium; the browser tests will be skipped"
fi
exit 0
