#!/usr/bin/env bash
# Installs what Locadocs needs beyond the Rust toolchain: the npm packages
# (official territorial data, the optional State theme, the browser-test
# libraries) and Debian's Chromium for the browser tests. Safe to run again;
# fast when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: '$1' is required but not installed ($2)" >&2; exit 1; }; }

# apt-get is only used as root on Debian-like systems; `apt-get update` runs
# at most once per setup, and only when something is missing. Each step is
# checked explicitly: `set -e` does not apply inside a function called from
# an `if` or `||`.
apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
    echo "setup: cannot install $* here (needs root and apt-get)" >&2
    return 1
  fi
  if [ "$apt_updated" = 0 ]; then
    echo "setup: apt-get update" >&2
    apt-get update -qq || { echo "setup: 'apt-get update' failed" >&2; return 1; }
    apt_updated=1
  fi
  echo "setup: apt-get install $*" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || { echo "setup: 'apt-get install $*' failed" >&2; return 1; }
}

need cargo "install Rust from your distribution or rustup"
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm || true
fi
need npm "install Node.js and npm"

# Only reinstall when the lock file changed since the last install.
# --ignore-scripts: @gouvfr/dsfr's install script refuses to run, and no
# dependency needs one (playwright-core never downloads a browser by itself).
stamp=node_modules/.locadocs-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

# The browser tests drive the distribution's Chromium: Playwright's own
# browser download is neither used nor needed.
chromium=${LOCADOCS_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  if ! apt_install chromium; then
    echo "setup: Chromium is required for the browser tests but $chromium is missing;" >&2
    echo "setup: install it (Debian: 'apt-get install chromium', as root) or set LOCADOCS_CHROMIUM" >&2
    exit 1
  fi
  if [ ! -x "$chromium" ]; then
    echo "setup: 'apt-get install chromium' did not provide $chromium" >&2
    exit 1
  fi
fi

# The test suite sends mail through a real SMTP server: aiosmtpd (PyPI), in a
# virtual environment inside the repository (git-ignored).
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import aiosmtpd' >/dev/null 2>&1; then
  need python3 "install Python 3 with its venv module (Debian: apt-get install python3-venv)"
  python3 -m venv .venv || { echo "setup: 'python3 -m venv .venv' failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
  .venv/bin/pip install --quiet --disable-pip-version-check 'aiosmtpd==1.4.6'
fi
