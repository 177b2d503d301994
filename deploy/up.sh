#!/usr/bin/env bash
# Builds patrolchat and runs the whole system on this machine.
#
#   deploy/up.sh           the live Wikimedia feed
#   deploy/up.sh replay    the bundled recorded events, looped at the live rate
#
# A current nats-server (2.10+, JetStream) and redis-server are used when they
# already answer on their standard ports; otherwise they are started with the
# project's configs under .data/ and stopped again on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-live}
case "$mode" in live|replay) ;; *) echo "usage: deploy/up.sh [live|replay]" >&2; exit 2 ;; esac

deploy/install-deps.sh
deploy/build-dashboard.sh
cargo build --release --bin patrolchat
bin=target/release/patrolchat
mkdir -p .data/nats .data/redis

pids=()
# Stop in reverse order of start, so patrolchat drains into a NATS that is still up.
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null && wait "${pids[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

# The INFO line a NATS server greets with, or nothing.
nats_info() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && head -n1 <&3" 2>/dev/null || true; }
recent_js() { # version >= 2.10 and JetStream on
  local info=$1 v
  v=$(sed -n 's/.*"version":"\([0-9]*\.[0-9]*\).*/\1/p' <<<"$info")
  [[ "$info" == *'"jetstream":true'* ]] && [ -n "$v" ] && \
    [ "${v%%.*}" -gt 2 -o \( "${v%%.*}" -eq 2 -a "${v#*.}" -ge 10 \) ]
}
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing answers on port $1" >&2; return 1; }

if [ -z "${PATROLCHAT_NATS_URL:-}" ]; then
  if recent_js "$(nats_info 4222)"; then
    export PATROLCHAT_NATS_URL=nats://127.0.0.1:4222
  else
    # Port 4222 is free or holds an old server (Debian ships 2.9): run ours beside it.
    port=4222; [ -n "$(nats_info 4222)" ] && port=4223
    .venv/bin/nats-server -c deploy/nats/single.conf -p "$port" -m 0 -l .data/nats.log &
    pids+=($!)
    wait_port "$port"
    export PATROLCHAT_NATS_URL=nats://127.0.0.1:$port
  fi
fi

if [ -z "${PATROLCHAT_REDIS_URL:-}" ]; then
  if [ "$(timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379 && printf "PING\r\n" >&3 && head -c5 <&3' 2>/dev/null)" != "+PONG" ]; then
    redis-server deploy/redis.conf --dir "$PWD/.data/redis" --logfile "$PWD/.data/redis.log" &
    pids+=($!)
    wait_port 6379
  fi
  export PATROLCHAT_REDIS_URL=redis://127.0.0.1:6379
fi

if [ "$mode" = replay ]; then
  "$bin" replay-server --file "${PATROLCHAT_CORPUS:-data/rc}" --loop --rate 26 --addr 127.0.0.1:8092 &
  pids+=($!)
  wait_port 8092
  export PATROLCHAT_FEED_URL=http://127.0.0.1:8092/v2/stream/recentchange
fi

# Without an OAuth consumer nobody could sign in: a local run gets dev login.
if [ -z "${PATROLCHAT_OAUTH_CLIENT_ID:-}" ]; then
  export PATROLCHAT_DEV_LOGIN="${PATROLCHAT_DEV_LOGIN:-1}"
fi

# Metrics on their own port, as the systemd unit of `all` has them.
export PATROLCHAT_METRICS_ADDR="${PATROLCHAT_METRICS_ADDR:-127.0.0.1:9104}"

echo "patrolchat: NATS $PATROLCHAT_NATS_URL, Redis $PATROLCHAT_REDIS_URL, feed ${PATROLCHAT_FEED_URL:-live Wikimedia}; api on http://${PATROLCHAT_HTTP_ADDR:-127.0.0.1:8080}, metrics on http://$PATROLCHAT_METRICS_ADDR/metrics" >&2
"$bin" all &
pids+=($!)
wait "${pids[-1]}"
