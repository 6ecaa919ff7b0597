# Shared by run.sh and bench.sh: install (when possible) and start Redis and Postgres with data under .data/.
# Source it; it defines functions only.

# Where Debian/Ubuntu put the Postgres server programs (not on PATH by default).
pg_bin() {
  local name=$1 dir
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/$name" ] && { echo "$dir/$name"; return; }
  done
  return 1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}

# Installs redis-server and the Postgres server when missing (apt, as root or with sudo), else says what to install.
ensure_servers() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  pg_bin initdb >/dev/null || missing+=(postgresql)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing ${missing[*]} (apt)..."
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    echo "Could not install ${missing[*]}: run 'sudo apt-get install ${missing[*]}' and try again." >&2
    exit 1
  fi
  # Debian's package starts its own cluster and Redis on the default ports; ours use their own ports and data.
}

# The user Postgres runs as: initdb refuses root.
pg_user() { if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_redis DIR PORT: a redis-server in the background, data in DIR, stopped by stop_services.
start_redis() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
    kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    sleep 0.5
  fi
  redis-server --port "$port" --bind 127.0.0.1 --dir "$(cd "$dir" && pwd)" --save "" --appendonly no \
    --daemonize yes --pidfile "$(cd "$dir" && pwd)/redis.pid" --logfile "$(cd "$dir" && pwd)/redis.log" >/dev/null
  for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "redis-server did not start on port $port (see $dir/redis.log)" >&2; exit 1
}

# start_redis_cluster DIR BASE_PORT: a Redis Cluster of 6 local nodes (3 masters, 3 replicas) on BASE_PORT..BASE_PORT+5,
# each a redis-server --cluster-enabled yes with its data in DIR/PORT, joined by redis-cli --cluster create (no Docker).
# Stopped by stop_redis_cluster DIR. Prints nothing; fails with the node's log when a node does not start.
start_redis_cluster() {
  local dir=$1 base=$2 port nodes=()
  stop_redis_cluster "$dir"
  for port in $(seq "$base" $((base + 5))); do
    rm -rf "$dir/$port"; mkdir -p "$dir/$port"
    local abs; abs=$(cd "$dir/$port" && pwd)
    redis-server --port "$port" --bind 127.0.0.1 --dir "$abs" --save "" --appendonly no --cluster-enabled yes       --cluster-config-file "$abs/nodes.conf" --cluster-node-timeout 2000 --protected-mode no       --daemonize yes --pidfile "$abs/redis.pid" --logfile "$abs/redis.log" >/dev/null
    nodes+=("127.0.0.1:$port")
  done
  for port in $(seq "$base" $((base + 5))); do
    for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 \
    || { echo "redis-cli --cluster create failed (see $dir/create.log)" >&2; exit 1; }
  for _ in $(seq 1 100); do
    redis-cli -p "$base" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
    sleep 0.1
  done
  # Ready once three replicas have synchronized: one still in its first sync cannot take over from a failed master.
  for _ in $(seq 1 300); do
    local synced=0
    for port in $(seq "$base" $((base + 5))); do
      redis-cli -p "$port" info replication 2>/dev/null | grep -q 'master_link_status:up' && synced=$((synced + 1))
    done
    [ "$synced" -eq 3 ] && return 0
    sleep 0.2
  done
  echo "the Redis cluster on ports $base..$((base + 5)) did not become ready" >&2; exit 1
}

# stop_redis_cluster DIR: stops the nodes start_redis_cluster started in DIR.
stop_redis_cluster() {
  local dir=$1 pid pids=()
  for pid in "$dir"/*/redis.pid; do
    [ -f "$pid" ] && pids+=("$(cat "$pid")")
  done
  [ ${#pids[@]} -eq 0 ] && return 0
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "${pids[@]}" 2>/dev/null || return 0; sleep 0.1; done
}

# start_postgres DIR PORT: a Postgres cluster in DIR (created on first use), listening on 127.0.0.1:PORT.
start_postgres() {
  local dir=$1 port=$2 abs
  mkdir -p "$dir"
  abs=$(cd "$dir" && pwd)
  [ "$(id -u)" = 0 ] && chown -R postgres "$abs"
  if [ ! -f "$abs/data/PG_VERSION" ]; then
    as_pg "$(pg_bin initdb)" -D "$abs/data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  as_pg "$(pg_bin pg_ctl)" -D "$abs/data" stop -m fast >/dev/null 2>&1 || true
  as_pg "$(pg_bin pg_ctl)" -D "$abs/data" -l "$abs/postgres.log" -w -t 60 \
    -o "-p $port -k $abs -c listen_addresses=127.0.0.1 ${PG_EXTRA_OPTIONS:--c max_connections=300}" start >/dev/null
}

# stop_services REDIS_DIR PG_DIR
stop_services() {
  local redis_dir=$1 pg_dir=$2
  [ -f "$redis_dir/redis.pid" ] && kill "$(cat "$redis_dir/redis.pid")" 2>/dev/null || true
  [ -f "$pg_dir/data/PG_VERSION" ] && as_pg "$(pg_bin pg_ctl)" -D "$(cd "$pg_dir" && pwd)/data" stop -m fast >/dev/null 2>&1 || true
}
