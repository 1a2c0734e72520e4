#!/usr/bin/env bash
# The vendor contract test: Python stubs generated from proto/ with grpcio-tools, the real
# `medpay up` binary, and a county's year called through those stubs only (vendor_test.py).
#
# Installs its packages into a virtual environment of its own (MEDPAY_VENDOR_VENV, default
# ~/.cache/medpay-vendor-venv), reused while requirements.txt is unchanged. Uses MEDPAY_BIN when
# set, otherwise builds the debug binary into CARGO_TARGET_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

python="${PYTHON:-python3}"
venv="${MEDPAY_VENDOR_VENV:-$HOME/.cache/medpay-vendor-venv}"
stamp="$venv/requirements.txt"
if ! cmp -s "$here/requirements.txt" "$stamp" 2>/dev/null; then
  echo "vendor: installing $(grep -c '==' "$here/requirements.txt") pinned packages into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$stamp"
fi

if [ -z "${MEDPAY_BIN:-}" ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
  (cd "$root" && cargo build --locked --quiet -p gateway --bin medpay)
  MEDPAY_BIN="$CARGO_TARGET_DIR/debug/medpay"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/stubs"
# Every contract, public and internal, must compile for a vendor's toolchain.
mapfile -t protos < <(cd "$root/proto" && find medpay -name '*.proto' | sort)
(cd "$root/proto" && "$venv/bin/python" -m grpc_tools.protoc -I . \
  --python_out="$work/stubs" --grpc_python_out="$work/stubs" "${protos[@]}")
echo "vendor: generated stubs for ${#protos[@]} contracts"

"$venv/bin/python" "$here/vendor_test.py" --medpay "$MEDPAY_BIN" --stubs "$work/stubs" \
  --data "$work/server"
