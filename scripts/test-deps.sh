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

# MinIO (a real S3 API that sends bucket notifications to webhooks). A Go
# module: built from source with go install, pinned, which takes minutes the
# first time; the binary stays in $(go env GOBIN) or $(go env GOPATH)/bin.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c # what @latest resolved to on 2026-11-23
GOBIN_DIR="$(go env GOBIN)"
if [ -z "$GOBIN_DIR" ]; then GOBIN_DIR="$(go env GOPATH | cut -d: -f1)/bin"; fi
if ! command -v minio >/dev/null 2>&1 && [ ! -x "$GOBIN_DIR/minio" ]; then
  echo "test-deps: installing minio $MINIO_VERSION (go install; several minutes the first time)" >&2
  go install "github.com/minio/minio@$MINIO_VERSION"
fi

# Chromium (headless, for the dashboard test in cmd/offload). Debian package;
# installed only when /usr/bin/chromium is missing.
if [ ! -x /usr/bin/chromium ]; then
  echo "test-deps: installing chromium" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
fi

# Powertools for AWS Lambda (TypeScript) Parameters, a cache contender of the
# benchmark harness (bench/, measurement 2) and of its test: the versions
# bench/powertools/package-lock.json pins, from the npm registry, with Node.js
# (Debian's nodejs and npm packages when missing). Again only when the lock
# file is newer than what was installed.
PT_DIR="$(cd "$(dirname "$0")/.." && pwd)/bench/powertools"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "test-deps: installing nodejs and npm" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi
if [ ! -f "$PT_DIR/node_modules/.package-lock.json" ] || [ "$PT_DIR/package-lock.json" -nt "$PT_DIR/node_modules/.package-lock.json" ]; then
  echo "test-deps: npm ci in bench/powertools" >&2
  (cd "$PT_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi

# GNU time, which the benchmark harness starts `offload plan` and its Python
# contender under (measurement 7) for their rusage. Debian package.
if [ ! -x /usr/bin/time ]; then
  echo "test-deps: installing time" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time
fi

# nats-server (JetStream: the replicated inbox, the key-value ledger, and
# MinIO's NATS target). A Go module, built with go install, pinned; the tests
# run it as a process of their own (internal/natstest).
NATS_SERVER_VERSION=v2.15.2
if ! command -v nats-server >/dev/null 2>&1 && [ ! -x "$GOBIN_DIR/nats-server" ]; then
  echo "test-deps: installing nats-server $NATS_SERVER_VERSION (go install; about two minutes the first time)" >&2
  go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION"
fi
