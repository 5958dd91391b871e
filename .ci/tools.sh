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

install conformance github.com/opencontainers/distribution-spec/conformance@v0.0.0-20260831232431-97274622c111
install crane github.com/google/go-containerregistry/cmd/crane@v0.22.1
install oras oras.land/oras/cmd/oras@v1.3.6
install goreleaser github.com/goreleaser/goreleaser/v2@v2.15.1
install server github.com/zitadel/oidc/v3/example/server@v3.52.0

if [ "${1:-}" = bench ]; then
  install registry github.com/distribution/distribution/v3/cmd/registry@v3.1.1
fi
