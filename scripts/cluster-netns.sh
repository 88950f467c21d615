#!/usr/bin/env bash
# Machines apart, simulated: 2 or 3 network namespaces (sl-ns0, sl-ns1, …) joined through a
# bridge in a namespace of their own (sl-sw) by veth pairs shaped to 1 Gbit/s with 0.5 ms of
# delay each way (netem; where the kernel lacks netem, tbf at the same rate and no delay, said
# so), one MPI rank in each, talking TCP over those links only (no shared memory).
#
#   1. cluster-bench in the namespaces: the all-reduce of the tagger's gradient over the links,
#      beside the on-paper model t = 2(N−1)/N · G / rate + 2(N−1) · delay;
#   2. train-tagger on the embedded corpus, 1 epoch, in the namespaces and again on loopback:
#      the two runs' weights must be equal byte for byte;
#   3. the same run with rank 1's link taken down mid-run (`ip link set … down`): every other
#      rank must end within --cluster-timeout with one line naming itself and its step;
#   4. a stranger on the bridge (10.77.0.100) sends random bytes to every port the job listens
#      on beyond loopback, mid-run: the job must finish with the clean run's weights or end with
#      one line per rank, and nothing may panic.
#
# Needs root (ip netns), Open MPI and binaries built with --features mpi.
# Usage: scripts/cluster-netns.sh [BIN_DIR] [RANKS]     (default: $CARGO_TARGET_DIR/release, 2)
set -euo pipefail
B="$(cd "${1:-${CARGO_TARGET_DIR:-target}/release}" && pwd)"
N="${2:-2}"
W="$(mktemp -d)"
as_root=(); [ "$(id -u)" = 0 ] && as_root=(--allow-run-as-root)

cleanup() {
  for i in $(seq 0 $((N - 1))); do ip netns del "sl-ns$i" 2>/dev/null || true; done
  ip netns del sl-sw 2>/dev/null || true
}
trap cleanup EXIT
cleanup

ip netns add sl-sw
ip -n sl-sw link add br0 type bridge
ip -n sl-sw link set br0 up
ip -n sl-sw addr add 10.77.0.100/24 dev br0
shaping=""
for i in $(seq 0 $((N - 1))); do
  ip netns add "sl-ns$i"
  ip -n "sl-ns$i" link set lo up
  ip link add "sl-v$i" netns "sl-ns$i" type veth peer name "sl-p$i" netns sl-sw
  ip -n "sl-ns$i" addr add "10.77.0.$((i + 1))/24" dev "sl-v$i"
  ip -n "sl-ns$i" link set "sl-v$i" up
  ip -n sl-sw link set "sl-p$i" master br0 up
  # Each direction of each link: the rank's side and the bridge's side.
  for side in "sl-ns$i sl-v$i" "sl-sw sl-p$i"; do
    set -- $side
    if ip netns exec "$1" tc qdisc add dev "$2" root netem rate 1gbit delay 0.5ms 2>/dev/null; then
      shaping="netem: 1 Gbit/s, 0.5 ms each way"
    else
      ip netns exec "$1" tc qdisc add dev "$2" root tbf rate 1gbit burst 256kb latency 50ms
      shaping="tbf: 1 Gbit/s, no added delay (this kernel has no netem: 'Specified qdisc kind is unknown')"
    fi
  done
done
echo "$N namespaces, links shaped by $shaping"

# Each namespace is a host of the hostfile; mpirun runs in sl-ns0 and starts its daemon on every
# other host through a launch agent that enters that host's namespace where ssh would log in.
hosts="$W/hosts"; agent="$W/agent"
for i in $(seq 0 $((N - 1))); do echo "10.77.0.$((i + 1)) slots=1" >> "$hosts"; done
cat > "$agent" <<'AGENT'
#!/usr/bin/env bash
# ssh's place for mpirun: `agent [options] HOST COMMAND…` runs COMMAND in HOST's namespace.
while [ "${1#-}" != "$1" ]; do shift; done
host="$1"; shift
exec ip netns exec "sl-ns$(( ${host##*.} - 1 ))" sh -c "$*"
AGENT
chmod +x "$agent"
launch() {
  # rtc_hwloc_vmhole none: Open MPI 4.1.4's sharing of its hardware map in memory crashed
  # mpirun here at random (a segmentation fault in hwloc_shmem_topology_write).
  ip netns exec sl-ns0 mpirun "${as_root[@]}" --hostfile "$hosts" -np "$N" --bind-to none --mca rtc_hwloc_vmhole none \
    --mca plm_rsh_agent "$agent" --mca btl self,tcp --mca btl_tcp_if_include 10.77.0.0/24 \
    --mca oob_tcp_if_include 10.77.0.0/24 -x RAYON_NUM_THREADS=1 "$@"
}

echo
echo "== 1. the all-reduce over the links (2,690,693 f32 = 10.8 MB)"
launch "$B/cluster-bench" --rounds 20 --warmup 3
python3 - "$N" <<'EOF'
import sys
n = int(sys.argv[1]); g = 2_690_693 * 4; rate = 1e9 / 8; delay = 0.5e-3
t = 2 * (n - 1) / n * g / rate + 2 * (n - 1) * delay
print(f"on paper (ring): 2(N-1)/N x {g/1e6:.1f} MB / 125 MB/s + 2(N-1) x 0.5 ms = {t*1e3:.1f} ms")
EOF

echo
echo "== 2. train-tagger, 1 epoch of the embedded corpus: namespaces against loopback"
train=(--epochs 1 --no-tui --seed 7 --cluster-timeout 20)
launch "$B/train-tagger" "${train[@]}" --artifacts "$W/apart" > "$W/apart.log" 2>&1 || { cat "$W/apart.log"; exit 1; }
# The all-reduce the engine picks across machines (recursive doubling for 2, the ring for more):
# with 3 or more ranks another algorithm sums in another order, and f32 sums differ in the last bits.
algorithm=$([ "$N" = 2 ] && echo 3 || echo 4)
mpirun "${as_root[@]}" --oversubscribe --bind-to none -np "$N" --mca btl self,tcp --mca btl_tcp_if_include lo \
  --mca rtc_hwloc_vmhole none -x OMPI_MCA_coll_tuned_use_dynamic_rules=1 -x OMPI_MCA_coll_tuned_allreduce_algorithm="$algorithm" \
  env RAYON_NUM_THREADS=1 "$B/train-tagger" "${train[@]}" --artifacts "$W/loopback" > "$W/loopback.log" 2>&1 \
  || { cat "$W/loopback.log"; exit 1; }
grep -h "all-reduces of" "$W/apart.log" | sed 's/^/namespaces: /'
grep -h "all-reduces of" "$W/loopback.log" | sed 's/^/loopback:   /'
# model.mpk records Burn's random parameter ids too: compare the weights alone, as exported.
for run in apart loopback; do "$B/export" --artifacts "$W/$run" --out "$W/$run.safetensors" > /dev/null; done
a="$(sha256sum < "$W/apart.safetensors")"; l="$(sha256sum < "$W/loopback.safetensors")"
if [ "$a" = "$l" ]; then echo "weights: equal byte for byte (exported safetensors ${a%% *})"; else echo "weights DIFFER"; exit 1; fi

echo
echo "== 3. rank 1's link down mid-run"
start=$(date +%s)
launch "$B/train-tagger" --epochs 50 --no-tui --seed 7 --cluster-timeout 5 --artifacts "$W/down" > "$W/down.log" 2>&1 &
job=$!
sleep 20
ip -n sl-ns1 link set sl-v1 down
down=$(date +%s)
echo "link down at $(( down - start )) s"
# The ranks end within the time-out; mpirun's daemons talk over the same link, so the job itself
# (and rank 1's line, which its daemon forwards) waits for the link to come back.
for _ in $(seq 1 60); do pgrep -x train-tagger > /dev/null || break; sleep 1; done
if pgrep -x train-tagger > /dev/null; then echo "a rank still runs 60 s after the link went down"; exit 1; fi
echo "every rank ended $(( $(date +%s) - down )) s after the link went down"
ip -n sl-ns1 link set sl-v1 up
for _ in $(seq 1 30); do kill -0 "$job" 2> /dev/null || break; sleep 1; done
kill "$job" 2> /dev/null && echo "mpirun still waited for its daemon 30 s after the link came back: stopped"
wait "$job" || true
grep -E "error: rank [0-9]+ of" "$W/down.log" || { echo "no rank said why:"; cat "$W/down.log"; exit 1; }
if grep -q panicked "$W/down.log"; then echo "a rank panicked"; exit 1; fi
echo "rank 0's folder keeps its last complete epoch: $(python3 -c "import json; print(json.load(open('$W/down/progress.json'))['last_epoch'])")"
echo
echo "== 4. a stranger sends garbage to the job's ports mid-run"
train=(--epochs 3 --no-tui --seed 7 --cluster-timeout 10)
launch "$B/train-tagger" "${train[@]}" --artifacts "$W/clean" > "$W/clean.log" 2>&1 || { cat "$W/clean.log"; exit 1; }
launch "$B/train-tagger" "${train[@]}" --artifacts "$W/garbage" > "$W/garbage.log" 2>&1 &
job=$!
sleep 6
ports=()
for i in $(seq 0 $((N - 1))); do
  for port in $(ip netns exec "sl-ns$i" ss -Hltn | awk '{print $4}' | grep -v '^127\.' | sed 's/.*://' | sort -u); do
    ports+=("10.77.0.$((i + 1)):$port")
  done
done
echo "listening beyond loopback: ${ports[*]}"
ip netns exec sl-sw python3 -c '
import os, socket, sys
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    for _ in range(3):
        try:
            with socket.create_connection((host, int(port)), timeout=2) as s:
                s.sendall(os.urandom(65536))
        except OSError as e:
            print(f"{target}: {e}")
print(f"sent 3 x 64 KiB of random bytes to each of {len(sys.argv) - 1} ports")
' "${ports[@]}"
if wait "$job"; then
  for run in clean garbage; do "$B/export" --artifacts "$W/$run" --out "$W/$run.safetensors" > /dev/null; done
  if cmp -s "$W/clean.safetensors" "$W/garbage.safetensors"; then echo "the job finished, weights equal to the clean run's"
  else echo "the job finished with OTHER weights"; exit 1; fi
else
  echo "the job ended with an error:"; grep -E "error: rank [0-9]+ of" "$W/garbage.log" || { cat "$W/garbage.log"; exit 1; }
fi
if grep -q panicked "$W/garbage.log"; then echo "a rank panicked"; exit 1; fi
echo "(work folder $W)"
