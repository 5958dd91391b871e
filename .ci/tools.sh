#!/usr/bin/env bash
# Installs the real tools the tests (and, with "bench", the benchmark) drive.
# A fresh machine has none of them; an installed one is kept when its version
# matches, so repeated runs cost nothing.
set -euo pipefail
GOBIN="$(go env GOPATH)/bin"
export PATH="$GOBIN:$PATH"

install() { # install NAME MODULE@VERSION
  local name=$1 mod=$2 stamp="$GOBIN/.$1.version"
  if [ -x "$GOBIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$mod" ]; then return; fi
  echo "installing $mod" >&2
  GOFLAGS= go install "$mod"
  echo "$mod" >"$stamp"
}

# SeaweedFS's weed, the benchmark's second S3 server (-s3-server seaweedfs).
# `go install` refuses a module whose go.mod has replace directives, as
# SeaweedFS's has, so it is built inside a writable copy of the module. That
# takes several minutes: only the bench mode builds it, and only once a version.
install_weed() { # install_weed MODULE@VERSION
  local mod=$1 stamp="$GOBIN/.weed.version"
  if [ -x "$GOBIN/weed" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$mod" ]; then return; fi
  echo "installing $mod (several minutes)" >&2
  ( # a subshell, so that its trap removes the copy however the build ends
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # Outside this module, whose go.mod and go.sum must not change.
    cd "$tmp"
    dir=$(GOFLAGS= go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
    [ -n "$dir" ] || { echo "go mod download $mod: no Dir" >&2; exit 1; }
    cp -r "$dir" src
    chmod -R u+w src
    cd src
    GOFLAGS=-mod=mod go build -o "$GOBIN/weed" ./weed
  )
  echo "$mod" >"$stamp"
}

install conformance github.com/opencontainers/distribution-spec/conformance@v0.0.0-20260831232431-97274622c111
# crane: a client the tests drive, and the benchmark's in-memory target.
install crane github.com/google/go-containerregistry/cmd/crane@v0.22.1
install oras oras.land/oras/cmd/oras@v1.3.6
# regctl, one of the clients the README shows (internal/e2e/readme_test.go).
install regctl github.com/regclient/regclient/cmd/regctl@v0.11.7
install goreleaser github.com/goreleaser/goreleaser/v2@v2.15.1
install server github.com/zitadel/oidc/v3/example/server@v3.52.0
# S3-compatible server standing in for R2 in the s3 blob store's tests.
install versitygw github.com/versity/versitygw/cmd/versitygw@v1.8.0

# Headless browser for the dev identity provider's login tests (chromedp).
# Debian's package; elsewhere install chromium yourself.
if ! command -v chromium >/dev/null; then
  echo "installing chromium" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# The docker CLI, for the credential helper's docker login/logout test (no
# daemon is needed). Debian's package; elsewhere install docker yourself.
if ! command -v docker >/dev/null; then
  echo "installing docker.io" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

# skopeo, one of the clients pull tokens are tested with (docker login,
# crane, oras, skopeo). Debian's package; elsewhere install skopeo yourself.
if ! command -v skopeo >/dev/null; then
  echo "installing skopeo" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends skopeo >/dev/null
fi

# PostgreSQL, for the postgres metadata store's tests, which expect user
# postgres without a password on 127.0.0.1:5432 (or CHAINCTL_TEST_POSTGRES).
# Debian's package; when this script installs it, it also lets that user in
# from loopback without a password. An existing server is left as it is,
# only started if it is down.
if ! command -v pg_ctlcluster >/dev/null && ! command -v pg_isready >/dev/null; then
  echo "installing postgresql" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  for v in /etc/postgresql/*/; do
    $sudo sed -i '1i host all postgres 127.0.0.1/32 trust' "$v/main/pg_hba.conf"
    # Restart, not start: the package may have started it already, and
    # the new pg_hba.conf line must take effect.
    $sudo pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main restart
  done
elif command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  for v in /etc/postgresql/*/; do
    $sudo pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start
  done
fi

if [ "${1:-}" = bench ]; then
  install registry github.com/distribution/distribution/v3/cmd/registry@v3.1.1
  install_weed github.com/seaweedfs/seaweedfs@v0.0.0-20261109003541-7506e5f91cd6
fi
