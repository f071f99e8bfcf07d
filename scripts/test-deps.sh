#!/usr/bin/env bash
# test-deps.sh installs what the tests need and this machine lacks: PostgreSQL's server
# binaries (initdb, postgres), redis-server, mailpit, Chromium (the dashboard's browser test), and Node.js with npm (the compatibility tests
# drive Infisical's Node SDK, pinned by internal/compat/testdata/nodesdk/package-lock.json). The tests start their own throwaway instances
# of both on loopback; nothing here starts or configures a server.
# Debian/Ubuntu packages via apt-get; runs apt-get as root or through sudo.
set -euo pipefail

have_postgres() {
	command -v initdb >/dev/null 2>&1 && return 0
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
have_redis() { command -v redis-server >/dev/null 2>&1; }
have_node() { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; }
have_haproxy() { command -v haproxy >/dev/null 2>&1; } # the HA lab's load balancer (deploy/lab)
# Debian's Chromium, which the dashboard's browser test (internal/web) drives headless.
have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }

# mailpit (an SMTP server that keeps what it receives, with an HTTP API) for the e-mail tests:
# a Go program, built from the module proxy at a pinned version into the directory where
# internal/testenv looks for it.
MAILPIT_VERSION=v1.27.11
mailpit_dir="${COFFER_TEST_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/coffer-test/bin}"
if ! command -v mailpit >/dev/null 2>&1 && ! [ -x "$mailpit_dir/mailpit" ]; then
	echo "test-deps: installing mailpit $MAILPIT_VERSION into $mailpit_dir" >&2
	mkdir -p "$mailpit_dir"
	GOBIN="$mailpit_dir" go install "github.com/axllent/mailpit@$MAILPIT_VERSION"
fi

# local-kms (an AWS KMS emulator) for the KMS tests: internal/testenv builds it from the module
# proxy, at the version pinned in localkms.go, into coffer-test/ in the user cache the first time
# a test needs it. Its own test does that now, so that no other test waits for the build.
(cd "$(dirname "$0")/.." && go test -count=1 -run '^TestLocalKMS$' ./internal/testenv/ >/dev/null)

missing=()
have_postgres || missing+=(postgresql)
have_redis || missing+=(redis-server)
have_node || missing+=(nodejs npm)
have_haproxy || missing+=(haproxy)
have_chromium || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "test-deps: installing ${missing[*]}" >&2
if ! command -v apt-get >/dev/null 2>&1; then
	echo "test-deps: ${missing[*]} missing and apt-get is not available; install them with your package manager" >&2
	exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
		echo "test-deps: need root (or sudo) to install ${missing[*]}" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
