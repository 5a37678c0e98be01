#!/usr/bin/env bash
# Import throughput through the CLI against a release server. Usage: measure_import.sh DATABASE_URL
set -euo pipefail
DB="$1"
BIN="$(cd "$(dirname "$0")/.." && pwd)/target/release/kakehashi"   # cargo build --release -p kakehashi-tools first
W=$(mktemp -d)
cd "$W"
DATABASE_URL="$DB" JWT_SECRET=measure-secret-0123456789abcdef0123456789 LOG_FORMAT=json RUST_LOG=warn \
  "$BIN" serve --demo --bind 127.0.0.1:18080 2>server.log &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for i in $(seq 1 100); do curl -s http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.3; done
sleep 1
URL=http://127.0.0.1:18080/graphql
TOKEN=$(curl -s $URL -H 'content-type: application/json' -d '{"query":"mutation { login(input:{email:\"admin@himawari.example\", password:\"kakehashi-demo\"}) { accessToken } }"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["data"]["login"]["accessToken"])')
KEY=$(curl -s $URL -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d '{"query":"mutation { createApiKey(input:{name:\"measure\", role: SERVICE_MANAGER}) { secret } }"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["data"]["createApiKey"]["secret"])')
python3 - <<'PY'
import json
with open("clients.jsonl","w") as f:
    for c in range(100):
        f.write(json.dumps({"externalId":f"C-{c}","displayName":f"利用者 {c}","nameKana":f"りようしゃ {c}"},ensure_ascii=False)+"\n")
with open("obs.csv","w") as f:
    f.write("externalId,clientExternalId,fact,category,occurredFrom,tags\n")
    for i in range(20000):
        f.write(f"R{i:06d},C-{i%100},\"午前の作業に{i%90}分参加し、途中で{i%5}回休憩した。昼食は{i%3}割残した。\",routine,2026/11/{1+i%25:02d} {8+i%10}:{i%60:02d},作業|午前\n")
PY
export KAKEHASHI_URL=$URL KAKEHASHI_API_KEY=$KEY
"$BIN" import clients.jsonl --kind clients >/dev/null
for run in first replay; do
  s=$(date +%s.%N)
  "$BIN" import obs.csv --kind observations --batch 200 2>/dev/null
  e=$(date +%s.%N)
  python3 -c "print('$run: %.1f s, %.0f records/s' % ($e-$s, 20000/($e-$s)))"
done
RSS=$(ps -o rss= -p $PID); echo "server RSS after import: $((RSS/1024)) MiB"
