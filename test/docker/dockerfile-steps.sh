#!/usr/bin/env bash
# Replays the Dockerfile's steps without Docker (no engine on the dev/CI machines), in a clean
# temporary folder, so a broken COPY list, build script or production-only install shows up here:
#
#   1. build stage:   copy what the Dockerfile COPYs, `npm ci`, `npm run build`
#   2. runtime stage: fresh folder, `npm ci --omit=dev`, copy dist/ from the build stage
#   3. run the result with the production node_modules only: `--help`, `validate --config`
#      (and check no devDependency leaked into the runtime folder)
#
# Node: the image's node is node:26; here the build stage's `node` devDependency (Node 26) plays it.
# Usage: test/docker/dockerfile-steps.sh [--keep] [--npm-install]
#   --keep         leave the temporary folder for a look
#   --npm-install  NOT what the Dockerfile does: `npm install` (same lockfile, same --omit=dev) instead of
#                  `npm ci`, to check the later steps while `npm ci` refuses the repository's lockfile
#                  (the fix for that belongs in package-lock.json, not here).
set -euo pipefail
keep=0
npm_install=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    --npm-install) npm_install=1 ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/auditrelay-dockerfile.XXXXXX")"
if [[ $keep == 0 ]]; then trap 'rm -rf "$tmp"' EXIT; else echo "keeping $tmp"; fi
step() { printf '\n==> %s\n' "$*"; }

step "build stage in $tmp/build"
mkdir -p "$tmp/build"
# Exactly the Dockerfile's COPY sources of the build stage.
cp "$repo/package.json" "$repo/package-lock.json" "$repo/tsconfig.json" "$repo/tsconfig.build.json" "$tmp/build/"
cp -R "$repo/src" "$tmp/build/src"
install=(npm ci)
if [[ $npm_install == 1 ]]; then
  install=(npm install)
  echo "--npm-install: using 'npm install' where the Dockerfile runs 'npm ci'"
fi
(cd "$tmp/build" && "${install[@]}" --no-audit --no-fund && npm run build)
node26="$tmp/build/node_modules/.bin/node"
"$node26" --version
test -f "$tmp/build/dist/cli/main.js" || { echo "FAIL: dist/cli/main.js was not built"; exit 1; }

step "runtime stage in $tmp/app (production dependencies only)"
mkdir -p "$tmp/app"
cp "$repo/package.json" "$repo/package-lock.json" "$tmp/app/"
(cd "$tmp/app" && NODE_ENV=production "${install[@]}" --omit=dev --no-audit --no-fund)
cp -R "$tmp/build/dist" "$tmp/app/dist"
for dev in typescript vitest @biomejs/biome node; do
  if [[ -e "$tmp/app/node_modules/$dev" ]]; then echo "FAIL: devDependency $dev is in the runtime node_modules"; exit 1; fi
done
echo "runtime node_modules: $(ls "$tmp/app/node_modules" | wc -l) entries, $(du -sh "$tmp/app/node_modules" | cut -f1); dist: $(du -sh "$tmp/app/dist" | cut -f1)"

# The ENTRYPOINT exactly as the Dockerfile writes it (node flags included), with this node for "node".
mapfile -t entry < <("$node26" -e '
  const m = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(require("fs").readFileSync(process.argv[1], "utf8"));
  if (!m) { console.error("FAIL: no ENTRYPOINT in exec form"); process.exit(1); }
  for (const a of JSON.parse(m[1]).slice(1)) console.log(a);' "$repo/Dockerfile")
entrypoint=("$node26" "${entry[@]}")
# The runtime stage's ENV lines (NODE_ENV, MALLOC_*), as the image sets them for the entrypoint.
mapfile -t image_env < <("$node26" -e '
  const text = require("fs").readFileSync(process.argv[1], "utf8");
  const runtime = text.slice(text.lastIndexOf("\nFROM "));
  for (const m of runtime.matchAll(/^ENV\s+(.+)$/gm)) for (const kv of m[1].trim().split(/\s+/)) console.log(kv);' "$repo/Dockerfile")
echo "image environment: ${image_env[*]}"
for kv in "${image_env[@]}"; do export "${kv?}"; done
step "ENTRYPOINT ${entry[*]} --help (cwd /app, NODE_ENV=production)"
cd "$tmp/app"
NODE_ENV=production "${entrypoint[@]}" --help

step "validate a config that reads its secret from a mounted file"
mkdir -p "$tmp/etc/secrets" "$tmp/state"
printf 'dummy-client-secret\n' >"$tmp/etc/secrets/o365-client-secret"
cat >"$tmp/etc/config.yaml" <<YAML
state:
  path: $tmp/state
export:
  endpoint: http://127.0.0.1:4318
sources:
  o365:
    - tenantId: 0b7b3a1e-2c4d-4e5f-8a9b-0c1d2e3f4a5b
      clientId: 11111111-2222-4333-8444-555555555555
      clientSecret: \${file:$tmp/etc/secrets/o365-client-secret}
YAML
NODE_ENV=production "${entrypoint[@]}" validate --config "$tmp/etc/config.yaml"

step "validate must fail (exit 1) on a broken config"
printf 'sources: {}\n' >"$tmp/etc/bad.yaml"
if NODE_ENV=production "${entrypoint[@]}" validate --config "$tmp/etc/bad.yaml"; then
  echo "FAIL: an invalid config was accepted"
  exit 1
fi

step "the image's CMD: run --config ... --http-addr ..."
run_help="$(NODE_ENV=production "${entrypoint[@]}" run --help 2>&1 || true)"
if grep -q -- '--http-addr' <<<"$run_help" && grep -q -- '--config' <<<"$run_help"; then
  echo "ok: 'run' takes --config and --http-addr"
else
  echo "FAIL: the image's CMD needs 'run --config FILE --http-addr HOST:PORT'; run --help says:"
  echo "$run_help"
  exit 1
fi

step "run (the CMD's arguments, on loopback), the HEALTHCHECK command, then SIGTERM"
# Source APIs and the export endpoint point at a closed loopback port: the daemon runs and retries.
cat >"$tmp/etc/run.yaml" <<YAML
state:
  path: $tmp/state
export:
  endpoint: http://127.0.0.1:9
sources:
  o365:
    - tenantId: 0b7b3a1e-2c4d-4e5f-8a9b-0c1d2e3f4a5b
      clientId: 11111111-2222-4333-8444-555555555555
      clientSecret: \${file:$tmp/etc/secrets/o365-client-secret}
      apiUrl: http://127.0.0.1:9
      loginUrl: http://127.0.0.1:9
YAML
port="$("$node26" -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
NODE_ENV=production "${entrypoint[@]}" run --config "$tmp/etc/run.yaml" --http-addr "127.0.0.1:$port" >"$tmp/run.log" 2>&1 &
pid=$!
# The Dockerfile's HEALTHCHECK, with this port.
healthcheck="fetch('http://127.0.0.1:$port/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
healthy=0
for _ in $(seq 1 50); do
  if "$node26" -e "$healthcheck"; then healthy=1; break; fi
  sleep 0.2
done
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
if [[ $healthy != 1 ]]; then echo "FAIL: the HEALTHCHECK command never succeeded; daemon log:"; cat "$tmp/run.log"; exit 1; fi
echo "ok: HEALTHCHECK command answered 0"
if [[ $code != 0 ]]; then echo "FAIL: after SIGTERM the daemon exited $code; its log:"; tail -20 "$tmp/run.log"; exit 1; fi
echo "ok: SIGTERM -> exit 0 ($(grep -c . "$tmp/run.log") log lines; last: $(tail -1 "$tmp/run.log" | cut -c1-160))"

echo
echo "dockerfile steps: OK"
