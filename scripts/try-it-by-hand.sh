#!/usr/bin/env bash
# The README's "Try it by hand" section, run as written (CI: tests/scripts/test_try_it_by_hand.py checks
# that the lines between the README markers below are the README's, and runs this script), then checks
# that nothing is left behind: no `sealkit dev` process, no temporary directory, no key material.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# A temporary area of its own (TMPDIR), so that afterwards everything in it can be accounted for.
area="$(mktemp -d)"
log="$(mktemp)"
export TMPDIR="$area"
fail() {
    echo "try-it-by-hand: FAIL: $*" >&2
    exit 1
}
cleanup() {
    # Should the walk-through fail half-way, stop what it started before removing the area.
    for dir in "$area"/sealkit-dev-*; do
        if [ -e "$dir/dev.pid" ]; then "$root/.venv/bin/sealkit" dev down --dir "$dir" >&2 || true; fi
    done
    rm -rf "$area" "$log"
}
trap cleanup EXIT
cd "$root"

walk_through() {
# README: begin
source .venv/bin/activate                  # from the checkout, once scripts/demo.sh or scripts/test.sh made it
cd "$(mktemp -d)"                          # a scratch directory for the files below
eval "$(sealkit dev up --detach)"          # the cluster, in the background: sets KUBECONFIG, SEALKIT_DEV_DIR
kubectl create namespace try-it
kubectl create secret generic db -n try-it --from-literal=password=change-me --dry-run=client -o yaml >db.yaml
sealkit seal -f db.yaml -w sealed/db.yaml  # the certificate comes from the controller, as on a real cluster
kubectl apply -f sealed/db.yaml
kubectl wait --for=condition=Synced sealedsecret/db -n try-it --timeout=60s
kubectl get secret db -n try-it            # the Secret the controller made from it
kubectl get secret db -n try-it -o jsonpath='{.data.password}' | base64 -d; echo
sealkit verify sealed/                     # every SealedSecret under sealed/ opens in the cluster
sealkit cert --fingerprint                 # the controller's key, also in $SEALKIT_DEV_CERT
sealkit dev down                           # stops everything and removes its files, the key among them
# README: end
}

walk_through 2>&1 | tee "$log" # in a subshell: the exported variables stay there

# What `sealkit dev down` reported, then: that process gone, its directory gone, nothing else left.
stopped="$(grep -E '^stopped the local cluster \(pid [0-9]+\); removed ' "$log" || true)"
[ -n "$stopped" ] || fail "sealkit dev down did not report a stopped cluster"
pid="$(sed -E 's/^stopped the local cluster \(pid ([0-9]+)\).*/\1/' <<<"$stopped")"
dir="${stopped#*; removed }"
if state="$(ps -o stat= -p "$pid")"; then
    case "$state" in Z*) ;; *) fail "the sealkit dev process $pid still runs" ;; esac
fi
[ ! -e "$dir" ] || fail "its directory is still there: $dir"
leftover="$(find "$area" -mindepth 1 -maxdepth 1 -name 'sealkit-*')"
[ -z "$leftover" ] || fail "temporary directories left behind: $leftover"
if grep -rlE 'PRIVATE KEY|tls\.key' "$area"; then fail "key material left behind (files above)"; fi
echo "try-it-by-hand: ok: process $pid stopped, $dir removed, no key material left in $area"
