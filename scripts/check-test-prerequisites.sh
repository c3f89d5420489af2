#!/usr/bin/env bash
# What `npm test` needs besides npm ci, checked in one go: says what is missing and how to get
# it, instead of a test failing halfway through. Exit 1 when something required is missing.
# .ci/run installs all of it (scripts/install-chromium.sh, scripts/install-test-tools.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
missing=0
need() { echo "missing: $1"; echo "  get it: $2"; missing=1; }
note() { echo "optional: $1"; echo "  get it: $2"; }

# Node 24 comes with npm ci, through the `node` devDependency (npm scripts put it first on PATH).
node_bin=node_modules/.bin/node
if [ ! -x "$node_bin" ]; then
  need "Node 24 in node_modules/.bin (from the node devDependency)" "npm ci (without --ignore-scripts: the node package installs its binary in a script)"
elif [ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" -lt 24 ]; then
  need "Node 24 or later in node_modules/.bin (found $("$node_bin" --version))" "npm ci"
fi

# The HTML report's browser test drives Debian's chromium at this path (test/html/browser.ts).
[ -x /usr/bin/chromium ] || need "chromium at /usr/bin/chromium (HTML report browser test)" "bash scripts/install-chromium.sh (Debian's chromium package)"

# The manifest tests render manifests/ with `kubectl kustomize`: kubectl 1.27 or later embeds kustomize v5.
if ! command -v kubectl >/dev/null 2>&1; then
  need "kubectl 1.27 or later (manifest tests: kubectl kustomize)" "https://kubernetes.io/docs/tasks/tools/ (any kubectl 1.27+ on PATH)"
else
  minor=$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -1)
  major=$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"major": *"\([0-9]*\).*/\1/p' | head -1)
  if [ -z "$minor" ] || [ -z "$major" ]; then
    need "kubectl whose version can be read (kubectl version --client -o json failed)" "https://kubernetes.io/docs/tasks/tools/"
  elif [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt 27 ]; }; then
    need "kubectl 1.27 or later (found $major.$minor; older ones embed kustomize v4)" "https://kubernetes.io/docs/tasks/tools/"
  fi
fi

# promtool lints both processes' /metrics (test/metrics).
command -v promtool >/dev/null 2>&1 || need "promtool (metrics test)" "bash scripts/install-test-tools.sh (Debian's prometheus package)"

# zsh and fish: their completion scripts are syntax-checked only where the shells exist.
for shell in zsh fish; do
  command -v "$shell" >/dev/null 2>&1 || note "$shell (its completion script is not checked without it)" "bash scripts/install-test-tools.sh"
done

if [ "$missing" -eq 0 ]; then echo "test prerequisites: all present"; fi
exit "$missing"
