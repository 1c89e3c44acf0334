#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: the Python environment (.venv) with every
# package editable, and checks Java and Maven (the broker and the trace UI run on the JVM).
# PostgreSQL is installed by stack.py when it is missing. Safe to run again: it only does what
# changed.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '[bootstrap] %s\n' "$*"; }

python_bin=""
for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        python_bin=$(command -v "$candidate"); break
    fi
done
if [ -z "$python_bin" ]; then
    say "Python 3.11 or newer is needed (python3.11 or python3 on PATH)."; exit 1
fi

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
# The browser tests drive Debian's Chromium (Playwright never downloads a browser here), and the
# screenshots need a Japanese font.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need_apt+=(fonts-noto-cjk)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing ${need_apt[*]} from Debian's packages"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        say "missing: ${need_apt[*]} (Debian package names). Install them, then run this again."; exit 1
    fi
fi

if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $python_bin"
    "$python_bin" -m venv .venv
fi
stamp=.venv/.requirements.sha256
wanted=$(cat requirements-dev.txt schemas/pyproject.toml services/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    say "installing Python packages into .venv (first time takes about a minute)"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r requirements-dev.txt
    echo "$wanted" > "$stamp"
fi
# promtool checks the alert rules (tests/test_prometheus_rules.py) and `make up PROMETHEUS=1` runs the
# server: both taken from Debian's prometheus package without installing its daemon, into the venv.
if { ! command -v promtool >/dev/null 2>&1 && [ ! -x .venv/bin/promtool ]; } ||
   { ! command -v prometheus >/dev/null 2>&1 && [ ! -x .venv/bin/prometheus ]; }; then
    if command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
        say "fetching promtool and prometheus from Debian's prometheus package"
        tmp=$(mktemp -d)
        if ! (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1); then
            apt-get update -qq >/dev/null 2>&1 || true
            (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1)
        fi
        dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
        cp "$tmp/x/usr/bin/promtool" "$tmp/x/usr/bin/prometheus" .venv/bin/
        rm -rf "$tmp"
    else
        say "prometheus is missing (Debian: apt-get install prometheus); the alert-rule tests will say so"
    fi
fi
say "ready: $(.venv/bin/python --version), $(java -version 2>&1 | head -1), $(mvn -v 2>/dev/null | head -1)"
