#!/usr/bin/env bash
# Measures the end-to-end figures of benches/RESULTS.md with the release
# loadgen and prints them as a Markdown table (one row per run).
#
#   scripts/figures.sh [OUT_DIR]            # every run below
#   RUNS="basic-100k noop-100k" scripts/figures.sh
#   LOADGEN=/path/to/loadgen scripts/figures.sh   # a prebuilt binary, no build
#
# Each run writes OUT_DIR/<run>.json (loadgen --json) and OUT_DIR/<run>.txt
# (the printed report). Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/figures}"
mkdir -p "$out"

loadgen="${LOADGEN:-}"
if [[ -z "$loadgen" ]]; then
  cargo build --release --bin loadgen
  loadgen="${CARGO_TARGET_DIR:-target}/release/loadgen"
fi

declare -A args=(
  [basic-100k]="--pods 100000 --nodes 5000"
  [noop-100k]="--pods 100000 --nodes 5000 --scheduler noop"
  [rate-5000]="--pods 30000 --nodes 5000 --rate 5000"
  [node-affinity]="--scenario node-affinity --pods 20000 --nodes 2000 --verify"
  [pod-anti-affinity]="--scenario pod-anti-affinity --pods 5000 --nodes 5000 --verify"
  [pod-affinity]="--scenario pod-affinity --pods 20000 --nodes 2000 --verify"
  [topology-spread]="--scenario topology-spread --pods 20000 --nodes 2000 --verify"
  [taints]="--scenario taints --pods 20000 --nodes 2000 --verify"
  [preemption]="--scenario preemption --pods 20000 --nodes 2000 --verify"
  [mixed-churn]="--scenario mixed-churn --pods 20000 --nodes 2000 --verify"
  [multi-scheduler]="--scenario multi-scheduler --pods 20000 --nodes 2000 --verify"
  [sharded]="--scenario sharded --pods 20000 --nodes 2000 --verify"
  [large]="--pods 300000 --nodes 10000 --until bound"
)
order="basic-100k noop-100k rate-5000 node-affinity pod-anti-affinity pod-affinity topology-spread taints preemption mixed-churn multi-scheduler sharded large"

for run in ${RUNS:-$order}; do
  [[ -n "${args[$run]:-}" ]] || { echo "unknown run $run" >&2; exit 2; }
  echo "== $run: loadgen ${args[$run]}" >&2
  # shellcheck disable=SC2086 # the arguments are word-split on purpose
  "$loadgen" ${args[$run]} --quiet --json "$out/$run.json" | tee "$out/$run.txt" >&2 || true
done

python3 - "$out" ${RUNS:-$order} <<'EOF'
import json, sys
out, runs = sys.argv[1], sys.argv[2:]
print("| run | pods / nodes | throughput avg (p50 / p99) pods/s | overall pods/s | created→bound p50 / p99 ms | created→running p50 ms | apiserver cpu s / MiB | scheduler cpu s / MiB | kubelet cpu s / MiB | verify |")
print("|---|---|---|---|---|---|---|---|---|---|")
for run in runs:
    try:
        r = json.load(open(f"{out}/{run}.json"))
    except (OSError, ValueError):
        print(f"| {run} | no report | | | | | | | | |")
        continue
    t, b, g = r["throughput"], r["created_to_bound"], r["created_to_running"]
    def comp(prefix):
        cs = [c for c in r["components"] if c["name"].startswith(prefix)]
        if not cs:
            return "-"
        return f'{sum(c["cpu_seconds"] for c in cs):.1f} / {sum(c["peak_rss_bytes"] for c in cs) / 2**20:.0f}'
    verify = r.get("verify")
    verdict = "-" if verify is None else ("OK" if verify.get("clean") else "VIOLATIONS")
    if r.get("timed_out"):
        verdict += " (timed out)"
    running = f'{g["p50_ms"]:.0f}' if g.get("count") else "-"
    print(f'| {run} | {r["pods"]} / {r["nodes"]} | {t["average"]:.0f} ({t["p50"]:.0f} / {t["p99"]:.0f}) | {t["overall"]:.0f} '
          f'| {b["p50_ms"]:.0f} / {b["p99_ms"]:.0f} | {running} | {comp("apiserver")} | {comp("scheduler")} | {comp("kubelet")} | {verdict} |')
EOF
