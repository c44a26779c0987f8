#!/usr/bin/env bash
# Load benchmark: seeds demo data (10,000 questions; the benchmark question has 30 answers),
# serves it from a release build pinned to one core, and loads it with wrk pinned to the other.
# Prints requests/s, p50 and p99 for /healthz (the ceiling), the question page (anonymous, as
# search engines and most readers see it, and logged in, rendered afresh every time), the home
# page and posting an answer, each beside the ceiling, and the server's resident memory.
#
#   tests/bench/run.sh                    # SQLite (the default)
#   BACKEND=postgres tests/bench/run.sh   # PostgreSQL at 127.0.0.1:5432
#   QUESTIONS=10000 CONNECTIONS=64 DURATION=10 SERVER_CPU=0 LOAD_CPU=1 tests/bench/run.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/tests/bench"
QUESTIONS="${QUESTIONS:-10000}"
CONNECTIONS="${CONNECTIONS:-64}"
DURATION="${DURATION:-10}"
SERVER_CPU="${SERVER_CPU:-0}"
LOAD_CPU="${LOAD_CPU:-1}"
BACKEND="${BACKEND:-sqlite}"
PORT="${PORT:-18080}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/nave-target}"

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
(cd "$root" && cargo build --release --quiet)
bin="$CARGO_TARGET_DIR/release/nave"

work="$(mktemp -d)"
cleanup() { [ -n "${server:-}" ] && kill "$server" 2>/dev/null; [ -n "${pgdb:-}" ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

export NAVE_DATA_DIR="$work"
if [ "$BACKEND" = postgres ]; then
  pgdb="nave_bench_$$"
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $pgdb" >/dev/null
  export NAVE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$pgdb"
else
  export NAVE_DATABASE_URL="sqlite://$work/nave.db"
fi
export NAVE_BIND="127.0.0.1:$PORT" NAVE_LOG=warn NAVE_HTTP_WORKERS=1
export NAVE_RATE_POSTS_PER_MINUTE=1000000 NAVE_RATE_LOGIN_PER_MINUTE=1000000

echo "== seeding $QUESTIONS questions on $BACKEND"
seed_out=$("$bin" seed-demo --seed 7 --users 200 --questions "$QUESTIONS" --benchmark-answers 30 --quiet)
echo "$seed_out"
question_path=$(echo "$seed_out" | sed -n 's/^benchmark question: //p')

taskset -c "$SERVER_CPU" "$bin" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$server/status"; }
sleep 1
idle_rss=$(rss)

token=$(curl -fsS -X POST -H 'Content-Type: application/json' -d '{"login":"demo_7_1","password":"demo-password-1"}' "http://127.0.0.1:$PORT/api/v1/tokens" | sed 's/.*"token":"\([^"]*\)".*/\1/')
# Answers go to the second question so the benchmark question keeps its 30 answers.
second=$(curl -fsS "http://127.0.0.1:$PORT/api/v1/questions?sort=newest&page_size=1&page=$((QUESTIONS - 1))" | sed 's/.*"items":\[{"id":\([0-9]*\).*/\1/')

# A logged-in reader's session: their pages are rendered for them, never from the cache.
jar="$work/cookies"
csrf=$(curl -fsS -c "$jar" "http://127.0.0.1:$PORT/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -fsS -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf_token=$csrf" --data-urlencode "login=demo_7_2" --data-urlencode "password=demo-password-1" "http://127.0.0.1:$PORT/login"
session=$(awk '$6 == "nave_session" {print $7}' "$jar")

peak_rss="$idle_rss"
sample_rss() { while kill -0 "$1" 2>/dev/null; do r=$(rss); awk -v a="$r" -v b="$(cat "$work/peak")" 'BEGIN{exit !(a>b)}' && echo "$r" >"$work/peak"; sleep 0.2; done; }
echo "$idle_rss" >"$work/peak"

export REPORT_LUA="$here/report.lua"
run() { # name url [script]
  local name=$1 url=$2 script=${3:-$here/report.lua}
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s -s "$script" ${HEADER:+-H "$HEADER"} "$url" >"$work/$name.out" 2>&1 &
  local w=$!
  sample_rss "$w"
  wait "$w"
  grep '^RESULT' "$work/$name.out" | sed "s/^RESULT/$name/"
}

base="http://127.0.0.1:$PORT"
# Warm up the page once so template and connection set-up are not measured.
curl -fsS "$base$question_path" >/dev/null
echo "== load: $CONNECTIONS connections, ${DURATION}s each; server on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU"
results=$(
  run healthz "$base/healthz"
  run question_page "$base$question_path"
  HEADER="Cookie: nave_session=$session" run question_user "$base$question_path"
  run home_page "$base/"
  TOKEN="$token" QUESTION="$second" run post_answer "$base/" "$here/post_answer.lua"
)
ceiling=$(echo "$results" | awk '/^healthz/ {split($2,a,"="); print a[2]}')
printf '\n%-14s %12s %10s %10s %12s %8s %8s\n' endpoint "req/s" "p50 ms" "p99 ms" "of ceiling" errors non2xx
echo "$results" | while read -r name rps p50 p99 _ errors non2xx; do
  r=${rps#rps=}
  printf '%-14s %12s %10s %10s %11.1f%% %8s %8s\n' "$name" "$r" "${p50#p50=}" "${p99#p99=}" "$(awk -v a="$r" -v c="$ceiling" 'BEGIN{print 100*a/c}')" "${errors#errors=}" "${non2xx#non2xx=}"
done
echo
echo "server RSS: idle ${idle_rss} MB, peak under load $(cat "$work/peak") MB"
echo "backend: $BACKEND; questions: $QUESTIONS; benchmark question: $question_path"
if grep -qE 'ERROR|WARN' "$work/server.log"; then
  echo; echo "server warnings and errors (last 10):"; grep -E 'ERROR|WARN' "$work/server.log" | tail -n 10
fi
