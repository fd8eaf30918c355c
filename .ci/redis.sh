#!/usr/bin/env bash
# The nested module ssoclient/redisstore against a real Redis: installs
# redis-server when missing (Debian packages), starts one on
# 127.0.0.1:6379 unless something answers there already, then vets and
# tests the module with CI=1, so its Redis tests fail instead of skipping
# when no Redis can be reached. Every step is idempotent. A Redis given
# in SSOKIT_REDIS_ADDR (host:port) is used as it is instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -z "${SSOKIT_REDIS_ADDR:-}" ]; then
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		echo "-- installing redis-server"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null
	fi

	if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
		echo "-- starting redis-server on 127.0.0.1:6379"
		# No persistence: the tests' keys live under random prefixes and are
		# removed, nothing needs to survive a restart. Started from / so it
		# writes nothing into the work tree.
		(cd / && redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes)
		for _ in $(seq 1 50); do
			redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
			sleep 0.2
		done
	fi
	redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "redis-server did not answer on 127.0.0.1:6379" >&2; exit 1; }
	echo "-- redis $(redis-cli -h 127.0.0.1 -p 6379 info server | sed -n 's/^redis_version:\(.*\)\r$/\1/p') on 127.0.0.1:6379"
fi

cd ssoclient/redisstore
CI=1 go vet ./...
CI=1 go test -race -count=1 ./...
