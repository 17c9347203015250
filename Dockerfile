# syntax=docker/dockerfile:1
#
# Parley: one image for the API (HTTP + Socket.IO) and the job workers.
#
#   docker build -t parley .
#   docker run -p 3000:3000 -e SMS_DRIVER=webhook -e SMS_WEBHOOK_URL=https://sms-relay.example/send \
#     -v parley-data:/data parley
#
# Debian (glibc) on purpose, not Alpine (musl): sharp, used for media thumbnails, ships
# prebuilt libvips binaries in its npm packages for linux-x64 and linux-arm64 on glibc,
# so `npm ci` needs no compiler and no system libvips. The same is true of the other
# native packages in the lock file (msgpackr-extract for BullMQ; PGlite is WASM). Both
# stages use the same base image, so the platform-specific optional packages that
# `npm ci` picks in the build stage are the right ones for the runtime stage.

# ---- build: install everything, compile TypeScript, then drop dev dependencies --------
FROM node:20-bookworm-slim AS build
WORKDIR /app
# @scarf/scarf (pulled in by swagger-ui-dist) phones home from its install script.
ENV SCARF_ANALYTICS=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false

COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
# The web client (web/, on the client SDK in packages/) is built by Vite into dist/web.
COPY packages ./packages
COPY web ./web
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime ---------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime

# ffmpeg: poster frames for video media. tini: PID 1 that forwards SIGTERM to node (which
# drains gracefully) and reaps child processes such as ffmpeg.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/*

# A dedicated unprivileged user with a fixed numeric id (so orchestrators can verify
# runAsNonRoot). The application files stay owned by root: the app cannot rewrite itself.
RUN groupadd --gid 10001 parley \
 && useradd --uid 10001 --gid parley --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin parley \
 && mkdir -p /data \
 && chown parley:parley /data

WORKDIR /app
ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=3000 \
    NPM_CONFIG_UPDATE_NOTIFIER=false

COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# The embedded database (when DATABASE_URL is unset) and local media files live here.
# Declared after the chown so that a new named volume starts out owned by the app user.
VOLUME ["/data"]

USER 10001:10001
EXPOSE 3000

# Liveness only (the process answers HTTP). Readiness, which also checks the database
# and Redis, is /health/ready; point load balancers at that one. No curl in the slim
# image, so node's built-in fetch does the request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/main.js"]
