#!/usr/bin/env bash
# Installs what the tests need and is not already on the machine. Safe to run
# again: each step checks first.
set -euo pipefail

# moto (AWS APIs on loopback). It is on the machine image; install it if not.
if ! command -v moto_server >/dev/null 2>&1; then
  echo "test-deps: installing moto[server]" >&2
  python3 -m pip install --quiet 'moto[server]==5.2.1'
fi

# Varnish (a real HTTP cache for the purge tests). Debian package; the
# package lists are refreshed only when it has to be installed.
if ! command -v varnishd >/dev/null 2>&1 && [ ! -x /usr/sbin/varnishd ]; then
  echo "test-deps: installing varnish" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq varnish
fi
