#!/usr/bin/env bash
# Builds Dex v2.45.1 for ssokit's browser tests:
#
#   e2e/tools/dex/build.sh [OUTPUT]    (default: e2e/tools/dex/bin/dex)
#
# Dex's v2 tags are not valid Go module versions, so go.mod beside this
# script requires the release's commit as a pseudo-version, with the
# command as a tool. Dex's own go.mod replaces its api/v2 module by a
# directory that the module zip leaves out; here api/v2 comes from the
# module proxy instead (v2.4.0, what MVS picks from Dex's requirements),
# and the command builds against it. The versions of every other module
# are those of Dex's go.mod. A cold build takes three to four minutes on
# two cores; a rebuild reuses Go's build cache and takes seconds. Dex's
# SQLite storage needs cgo (gcc); the tests use its memory storage.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/bin/dex}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
mkdir -p "$(dirname "$out")"
cd "$here"
# This module is not in the repository's go.work, so the workspace (and its
# versions of shared dependencies) stays out of Dex's build.
export GOWORK=off
version=v2.45.1
go build -ldflags "-X main.version=$version" -o "$out" github.com/dexidp/dex/cmd/dex
"$out" version | grep -q "$version" || { echo "$out does not say it is Dex $version" >&2; exit 1; }
echo "built $out ($("$out" version | head -n 1))"
