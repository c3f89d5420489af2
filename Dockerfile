# portcullis image: `portcullis serve` by default; the controller Deployment runs
# `node /app/dist/cmd/cli.js controller` from the same image.
#
# Node: the exact version of the `node` devDependency in package.json, which the tests run
# on (a test fails when the two differ). The runtime stage is FROM scratch with only the
# node binary, the shared libraries it links and the app: no shell, no package manager, no
# npm. Every other base is pinned by version and by the digest of its multi-arch index, so a
# rebuild of the tag upstream changes nothing here until Renovate proposes the new digest
# (renovate.json). The digest was taken from published records of that index
# (docs/install.md, "The image"); it could not be checked against the registry from the
# machines this was written on.
#
# Build arguments the release workflow sets (.github/workflows/release.yaml); a local build
# without them gets this package version and no commit:
#   VERSION   package.json's version, for the OCI version label
#   REVISION  the git commit, for the OCI revision label and `portcullis version`
#   CREATED   the build time, RFC 3339

# --- build: compile TypeScript to dist/ ------------------------------------------------
FROM node:24.21.0-trixie-slim@sha256:8ec5d7557396cfe32d21c3f9c13072355ceab22b584578ca4bb28af31120cffe AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied, and the `node`
# package's preinstall would fetch a second Node binary this image already has.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# The build context has no .git, so `npm run build` stamps no commit; the release workflow
# passes it instead (src/cmd/stamp-build.ts writes the same file from git).
ARG REVISION=""
RUN if [ -n "$REVISION" ]; then printf '{"commit":"%s","modified":false}\n' "$REVISION" > dist/build-stamp.json; fi

# --- prod-deps: production dependencies only --------------------------------------------
FROM node:24.21.0-trixie-slim@sha256:8ec5d7557396cfe32d21c3f9c13072355ceab22b584578ca4bb28af31120cffe AS prod-deps
WORKDIR /src
COPY package.json package-lock.json ./
# All runtime dependencies are plain JavaScript: no install script is needed.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- rootfs: node and the libraries it links, a passwd entry for uid 65532 ---------------
FROM node:24.21.0-trixie-slim@sha256:8ec5d7557396cfe32d21c3f9c13072355ceab22b584578ca4bb28af31120cffe AS rootfs
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
ARG VERSION=0.1.0
ARG REVISION=""
ARG CREATED=""
# OCI image annotations (github.com/opencontainers/image-spec, annotations.md).
LABEL org.opencontainers.image.title="portcullis" \
      org.opencontainers.image.description="Kubernetes admission webhook and policy controller that keeps a cluster's port space clean" \
      org.opencontainers.image.source="https://github.com/portcullis-dev/portcullis" \
      org.opencontainers.image.url="https://github.com/portcullis-dev/portcullis" \
      org.opencontainers.image.documentation="https://github.com/portcullis-dev/portcullis/blob/main/docs/install.md" \
      org.opencontainers.image.vendor="portcullis" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
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
