#!/usr/bin/env bash
# Installs what the tests need and is not already on the machine. Safe to run
# again: each step checks first.
set -euo pipefail

# moto (AWS APIs on loopback). It is on the machine image; install it if not.
if ! command -v moto_server >/dev/null 2>&1; then
  echo "test-deps: installing moto[server]" >&2
  python3 -m pip install --quiet 'moto[server]==5.2.1'
fi
