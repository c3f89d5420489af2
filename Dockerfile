# portcullis image: `portcullis serve` by default; the controller Deployment runs
# `node /app/dist/cmd/cli.js controller` from the same image.
#
# Node: the exact version of the `node` devDependency in package.json, which the tests run
# on (a test fails when the two differ). The runtime stage is FROM scratch with only the
# node binary, the shared libraries it links and the app: no shell, no package manager, no
# npm. Every other base is pinned by version.

# --- build: compile TypeScript to dist/ ------------------------------------------------
FROM node:24.21.0-trixie-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied, and the `node`
# package's preinstall would fetch a second Node binary this image already has.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- prod-deps: production dependencies only --------------------------------------------
FROM node:24.21.0-trixie-slim AS prod-deps
WORKDIR /src
COPY package.json package-lock.json ./
# All runtime dependencies are plain JavaScript: no install script is needed.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- rootfs: node and the libraries it links, a passwd entry for uid 65532 ---------------
FROM node:24.21.0-trixie-slim AS rootfs
# ldd prints "lib => /path (addr)" for each library and "/path (addr)" for the loader.
RUN set -eu; \
    mkdir -p /rootfs/nodejs/bin /rootfs/etc /rootfs/tmp /rootfs/app; \
    cp /usr/local/bin/node /rootfs/nodejs/bin/node; \
    for lib in $(ldd /usr/local/bin/node | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do \
      cp --parents -L "$lib" /rootfs; \
    done; \
    echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > /rootfs/etc/passwd; \
    echo 'nonroot:x:65532:' > /rootfs/etc/group; \
    chmod 1777 /rootfs/tmp; \
    /rootfs/nodejs/bin/node --version

# --- runtime ---------------------------------------------------------------------------
FROM scratch
COPY --from=rootfs /rootfs/ /
WORKDIR /app
# package.json carries "type": "module", which the ESM files in dist/ need.
COPY package.json ./
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY policies ./policies
ENV NODE_ENV=production
# Numeric, so the kubelet can check runAsNonRoot without reading /etc/passwd.
USER 65532:65532
EXPOSE 8443 8080
# Nothing is written at run time: the root filesystem can be (and in the manifests is)
# mounted read-only. Certificates and policies come from mounted volumes.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cmd/cli.js", "serve"]
