#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, vets, then runs every
# Go test (unit tests beside the code, integration tests under tests/ that
# start real dbus-daemon, Xvfb, Xephyr and GTK processes and stop them by PID).
# Sandboxes are started as an ordinary user, created when run as root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ensure_packages
ensure_go
ensure_fuse
cd "$AIRLOCK_ROOT"
log "go $(go env GOVERSION), $(nproc) cores"
log "building"
build_airlock
log "go vet ./..."
go vet ./...
log "go test ./..."
# No -v: each package prints its ok/FAIL line; failures print in full.
go test -count=1 -timeout 25m ${AIRLOCK_TEST_FLAGS:-} ./...
