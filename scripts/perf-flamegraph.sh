#!/usr/bin/env bash
# A perf flamegraph of one component of a loadgen run (the committed ones in
# benches/flamegraphs/ come from here). Needs `perf` and inferno
# (`cargo install inferno`); samples with DWARF unwinding, which sees through
# async frames better than the in-process sampler of `loadgen --profile`.
#
#   scripts/perf-flamegraph.sh LOADGEN COMPONENT OUT.svg [loadgen args...]
#   scripts/perf-flamegraph.sh target/release/loadgen apiserver api.svg --pods 100000 --nodes 5000
#
# COMPONENT is apiserver, scheduler or kubelet. PERF_DELAY (s, default 4)
# skips the start-up, PERF_SECS (default 8) is the sample length.
set -euo pipefail
loadgen=$1 component=$2 out=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$loadgen" "$@" --quiet > "$work/report.txt" 2>&1 &
run=$!
pid=
for _ in $(seq 1 300); do
  pid=$(pgrep -f -- "component $component" | head -n 1 || true)
  [[ -n "$pid" ]] && break
  sleep 0.1
done
[[ -n "$pid" ]] || { echo "no $component process" >&2; exit 1; }
sleep "${PERF_DELAY:-4}"
perf record -F 299 --call-graph dwarf,16384 -p "$pid" -o "$work/perf.data" \
  -- sleep "${PERF_SECS:-8}" > /dev/null 2>&1
wait "$run" || true
cat "$work/report.txt"

# Generic arguments and closure numbers make Rust frame names unreadable:
# drop them and merge the stacks that become identical.
perf script -i "$work/perf.data" 2> /dev/null | inferno-collapse-perf | python3 -c '
import collections, re, sys
def short(frame):
    out, depth = [], 0
    for ch in frame:
        if ch == "<":
            depth += 1
        elif ch == ">" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    text = re.sub(r"\{\{closure\}\}|\{(closure|async_fn|async_block)#\d+\}", "{..}", "".join(out))
    return text.replace(" (inlined)", "").strip() or frame[:40]
stacks = collections.Counter()
for line in sys.stdin:
    stack, _, count = line.rstrip("\n").rpartition(" ")
    frames = []
    for frame in map(short, stack.split(";")):
        if not frames or frames[-1] != frame:
            frames.append(frame)
    stacks[";".join(frames)] += int(count)
for stack, count in stacks.items():
    print(stack, count)
' | inferno-flamegraph --minwidth 0.15 \
  --title "$component during loadgen $* (perf, DWARF, 299 Hz, ${PERF_SECS:-8} s)" > "$out"
echo "wrote $out" >&2
