#!/usr/bin/env bash
# Headless Chromium for the dashboard's browser tests: the Debian package, installed where we can.
# Never fails the build: where Chromium cannot be installed it says why, and the tests skip.
set -u

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
# chromium-l10n: the browser's own texts and date/time controls in Italian, as a Milan user sees them
# (without it they fall back to US English: "mm/dd/yyyy, 04:00 PM" in the Italian pages' screenshots)
if [ -x "$chromium" ]; then
  echo "browser tests: Chromium present at $chromium"
  if [ ! -e /usr/lib/chromium/locales/it.pak ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-l10n >/dev/null 2>&1 \
      || echo "browser tests: chromium-l10n not installed; date controls will be in US English"
  fi
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
if apt-get update -qq && apt-get install -y -qq chromium chromium-l10n >/dev/null; then
  echo "browser tests: Chromium installed at $(command -v chromium)"
else
  echo "browser tests: apt-get could not install chromium; the browser tests will be skipped"
fi
exit 0
