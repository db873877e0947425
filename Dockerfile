# syntax=docker/dockerfile:1
# auditrelay container image.
#
#   docker build -t auditrelay .
#   docker run --rm -v $PWD/config.yaml:/etc/auditrelay/config.yaml:ro -v auditrelay-state:/var/lib/auditrelay \
#     -e OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 -p 8080:8080 auditrelay
#
# The config file is mounted at /etc/auditrelay/config.yaml; set `state.path: /var/lib/auditrelay` in it
# (a relative state path resolves next to the config file, which is usually a read-only mount).
# Secrets come from the environment or mounted files via ${env:NAME} / ${file:/path} in the config.
# test/docker/dockerfile-steps.sh replays these steps without Docker.

# Keep the Node major equal to the `node` devDependency and `engines.node` in package.json.
ARG NODE_IMAGE=node:26-bookworm-slim

# ---- build: all dependencies, TypeScript -> dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies and the compiled code only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# State (cursors, dead letters) must survive restarts: mount a volume here.
RUN mkdir -p /var/lib/auditrelay /etc/auditrelay && chown node:node /var/lib/auditrelay
VOLUME /var/lib/auditrelay
# The base image's unprivileged user (uid/gid 1000).
USER node
EXPOSE 8080
# No curl in the slim image: ask node itself. /healthz answers while the process is alive and not wedged.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form, node as PID 1's direct command: SIGTERM reaches node, which drains and saves its cursors.
STOPSIGNAL SIGTERM
# Memory, native side: glibc keeps freed response and compression buffers in per-thread arenas, and
# with hundreds of tenants that was ~40 MB of RSS holding nothing. Two arenas, and large blocks
# mapped and returned at once, keep it flat (README, Benchmarks). npm run bench uses these too.
ENV MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072 MALLOC_MMAP_THRESHOLD_=131072
# Memory: V8 otherwise lets the heap grow to several times what is live while a backlog drains
# (peak RSS ~400 MB for ~80 MB live). A smaller young generation and a heap that grows by half
# rather than up to 4x keep a 7-day backlog under 300 MB for about 10 % more CPU (README, Benchmarks).
# npm run bench starts the daemon with the flags on this line.
ENTRYPOINT ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "dist/cli/main.js"]
CMD ["run", "--config", "/etc/auditrelay/config.yaml", "--http-addr", "0.0.0.0:8080"]
