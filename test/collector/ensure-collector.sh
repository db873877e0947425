#!/usr/bin/env bash
# Prints the path of an OpenTelemetry Collector built from test/collector/builder-config.yaml,
# building it first when the cached binary is missing.
#
#   test/collector/ensure-collector.sh            # -> /root/.cache/auditrelay/otelcol-<hash>/otelcol-auditrelay
#
# - Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/auditrelay/ (outside the repository, kept between CI runs on the
#   same machine). The binary lives in otelcol-<first 16 hex of sha256(manifest + go.sum + ocb version)>/, so editing the
#   manifest makes a new build; old ones can be deleted by hand.
# - Needs only Go and the module proxy: the builder (ocb) itself is `go install`ed into the cache too.
# - Go's module and build caches are the user's (go env), or folders in our cache when go has none
#   (no HOME); GOFLAGS is reduced to -buildvcs=false so a -mod=vendor or similar from the environment
#   cannot break the generated module; GOTOOLCHAIN=local so Go never tries to download a toolchain.
# - Concurrent callers (parallel test files) are serialised with flock; the second one waits and
#   then reuses the first one's binary.
# - Progress goes to stderr; stdout is only the binary's path.
set -euo pipefail

OCB_VERSION=v0.152.0 # keep equal to the core version in builder-config.yaml

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="$here/builder-config.yaml"
log() { printf '[ensure-collector] %s\n' "$*" >&2; }

command -v go >/dev/null 2>&1 || {
  log "go is not on PATH: install Go (>= 1.25) to build the test Collector"
  exit 1
}

cache_root="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/auditrelay"
gosum="$here/go.sum"
hash="$( (cat "$manifest" "$gosum"; echo "ocb=$OCB_VERSION") | sha256sum | cut -c1-16)"
dir="$cache_root/otelcol-$hash"
bin="$dir/otelcol-auditrelay"

if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.build.lock"
log "waiting for the build lock $cache_root/.build.lock"
flock 9
if [[ -x "$bin" ]]; then # built by whoever held the lock before us
  echo "$bin"
  exit 0
fi

export GOTOOLCHAIN=local
export GOFLAGS=-buildvcs=false
export CGO_ENABLED=0
# A fresh machine may have no HOME-derived Go dirs; keep everything in our cache then.
if [[ -z "$(go env GOMODCACHE 2>/dev/null)" ]]; then export GOMODCACHE="$cache_root/go/pkg/mod"; fi
if [[ -z "$(go env GOCACHE 2>/dev/null)" || "$(go env GOCACHE 2>/dev/null)" == off ]]; then export GOCACHE="$cache_root/go-build"; fi
if [[ -z "$(go env GOPATH 2>/dev/null)" ]]; then export GOPATH="$cache_root/go"; fi

ocb="$cache_root/ocb-$OCB_VERSION/builder"
if [[ ! -x "$ocb" ]]; then
  log "installing the Collector builder go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION"
  GOBIN="$cache_root/ocb-$OCB_VERSION" go install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION" >&2
fi

work="$(mktemp -d "$cache_root/build-$hash.XXXXXX")"
trap 'rm -rf "$work"' EXIT
src="$work/src"
# Same manifest, with the output going to our scratch folder.
sed "s#^\(  output_path:\).*#\1 $src#" "$manifest" >"$work/builder-config.yaml"
grep -q "output_path: $src" "$work/builder-config.yaml" || {
  log "could not set dist.output_path in the manifest copy"
  exit 1
}

start=$SECONDS
log "generating the Collector's sources with ocb"
"$ocb" --config "$work/builder-config.yaml" --skip-get-modules --skip-compilation >&2

# ocb's own module step (`go mod tidy`) also resolves the TEST imports of every dependency, and the
# module proxy reachable here does not serve a few of those test-only modules for this release
# (e.g. collector/extension/zpagesextension, service/telemetry/telemetrytest: 403). `tidy -e` records
# everything it can and goes on; `go build` then needs only what the binary imports.
# go.sum is pinned in the repository: the checksum database relayed by the proxy has no entry for
# some modules of this release (elasticsearchexporter, ebpf-profiler: 404), so Go could not verify
# them on a fresh machine; with their hashes pinned it never asks. See README.md to regenerate.
cp "$gosum" "$src/go.sum"
log "resolving modules (go mod tidy -e; 403 errors for *test* modules below are expected)"
(cd "$src" && go mod tidy -e -compat=1.25 >&2)
log "compiling (first time on this machine: a few minutes on 2 cores)"
(cd "$src" && go build -trimpath -ldflags='-s -w' -o otelcol-auditrelay . >&2)
log "built in $((SECONDS - start))s"

if [[ -n "${ENSURE_COLLECTOR_SAVE_GOSUM:-}" ]]; then
  cp "$src/go.sum" "$gosum"
  log "updated $gosum from this build"
  hash="$( (cat "$manifest" "$gosum"; echo "ocb=$OCB_VERSION") | sha256sum | cut -c1-16)"
  dir="$cache_root/otelcol-$hash"
  bin="$dir/otelcol-auditrelay"
fi
mkdir -p "$dir"
cp "$src/otelcol-auditrelay" "$dir/otelcol-auditrelay.tmp"
mv "$dir/otelcol-auditrelay.tmp" "$bin" # atomic: a reader never sees a half-written binary
log "Collector: $bin ($("$bin" --version 2>/dev/null || true))"
echo "$bin"
