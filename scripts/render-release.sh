#!/usr/bin/env bash
# Renders each mode (audit, enforce, remediate) into one YAML file per mode, with the image
# pinned by the digest the release pushed: the release's install assets, for `kubectl apply -f`
# and for GitOps or Helm users who take rendered manifests.
#   scripts/render-release.sh sha256:<64 hex> OUTDIR
set -euo pipefail
digest=$1
out=$2
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "render-release: $digest is not a sha256 digest" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
# The one place the image is named (manifests/base/workload/kustomization.yaml, images:).
image=$(sed -n 's/^ *newName: //p' "$root/manifests/base/workload/kustomization.yaml")
[[ -n $image ]] || { echo "render-release: no newName in manifests/base/workload/kustomization.yaml" >&2; exit 2; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for mode in audit enforce remediate; do
  mkdir -p "$tmp/$mode"
  # kustomize refuses absolute paths in resources.
  rel=$(realpath --relative-to="$tmp/$mode" "$root/manifests/overlays/$mode")
  printf 'resources: [%s]\nimages:\n  - name: %s\n    digest: %s\n' "$rel" "$image" "$digest" > "$tmp/$mode/kustomization.yaml"
  kubectl kustomize "$tmp/$mode" > "$out/portcullis-$mode.yaml"
done
