#!/usr/bin/env bash
# The browser and real-provider tests (the nested module e2e): examples/basic
# in headless Chromium against its bundled fake provider, Dex and
# node-oidc-provider. Installs what is missing (Debian's chromium, and
# Node.js with npm), builds Dex into a cache, installs oidc-provider from its
# package-lock.json, then runs the tests with CI=1, so a missing piece fails
# them instead of skipping them. Every step is idempotent.
#
# Environment: E2E_CACHE (default ~/.cache/ssokit-e2e) keeps the Dex
# binary between runs; E2E_ARTIFACTS (default e2e/artifacts) receives the
# screenshots, pages and logs of failed tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
started=$SECONDS

echo "== e2e: tools"
# chromedp speaks the DevTools protocol to Chromium itself, so no
# chromium-driver is needed. Node.js 18 (Debian's) or later runs the
# oidc-provider version in e2e/oidc-provider.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
	echo "-- installing ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
chromium_bin="$(command -v chromium)"
"$chromium_bin" --version 2>/dev/null | grep -v '^$' || true
echo "node $(node --version), npm $(npm --version)"

# Dex, keyed by the files that decide what is built: an unchanged build is
# reused as is; a changed one rebuilds, warm from Go's build cache.
cache="${E2E_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ssokit-e2e}"
key="$(cat e2e/tools/dex/go.mod e2e/tools/dex/go.sum e2e/tools/dex/build.sh | sha256sum | cut -c1-16)"
dex_bin="$cache/dex-$key/dex"
if [ -x "$dex_bin" ]; then
	echo "-- Dex: $dex_bin (cached)"
else
	echo "-- building Dex into $dex_bin (three to four minutes cold on two cores)"
	t0=$SECONDS
	e2e/tools/dex/build.sh "$dex_bin.tmp"
	mv "$dex_bin.tmp" "$dex_bin"
	echo "-- Dex built in $((SECONDS - t0)) s"
fi

echo "-- npm ci in e2e/oidc-provider"
(cd e2e/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)

echo "== e2e: go vet and go test -race (CI=1: a missing tool fails)"
(
	cd e2e
	export CI=1 E2E_CHROMIUM="$chromium_bin" E2E_DEX="$dex_bin" E2E_NODE="$(command -v node)"
	go vet ./...
	go test -race -count=1 -timeout 15m -v ./...
)
echo "ok  e2e in $((SECONDS - started)) s"
