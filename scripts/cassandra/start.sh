#!/usr/bin/env bash
# Starts a real single-node Apache Cassandra (cassandra-all from Maven Central, on the
# machine's JDK 17) in the background on loopback and waits until it answers CQL.
# Jars are resolved by Maven (cached in ~/.m2); state lives in CASSANDRA_DIR.
# Settings: CASSANDRA_DIR (default /tmp/parley-cassandra), CASSANDRA_NATIVE_PORT (19042),
# CASSANDRA_STORAGE_PORT (17000), CASSANDRA_HEAP (1G). Prints the contact point.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir="${CASSANDRA_DIR:-/tmp/parley-cassandra}"
native_port="${CASSANDRA_NATIVE_PORT:-19042}"
storage_port="${CASSANDRA_STORAGE_PORT:-17000}"
heap="${CASSANDRA_HEAP:-1G}"
lib="$here/target/lib"

log() { printf '==> %s\n' "$*" >&2; }

cql_up() {
  (cd "$repo" && node -e '
    const { Client } = require("cassandra-driver");
    const c = new Client({ contactPoints: ["127.0.0.1:" + process.argv[1]], localDataCenter: "datacenter1" });
    c.execute("SELECT release_version FROM system.local")
      .then((r) => { console.log(r.rows[0].release_version); return c.shutdown(); })
      .catch(() => c.shutdown().then(() => process.exit(1)));
  ' "$native_port") 2>/dev/null
}

if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
  if version=$(cql_up); then
    log "Cassandra $version already answers on 127.0.0.1:$native_port"
    exit 0
  fi
fi

command -v java >/dev/null || { echo "java (JDK 17) is needed to run Cassandra" >&2; exit 1; }
if [ ! -f "$lib/.complete" ]; then
  command -v mvn >/dev/null || { echo "mvn is needed to resolve cassandra-all" >&2; exit 1; }
  log "resolving cassandra-all with Maven"
  rm -rf "$lib"
  (cd "$here" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib")
  touch "$lib/.complete"
fi

mkdir -p "$dir/conf" "$dir/logs" "$dir/data" "$dir/commitlog" "$dir/saved_caches" "$dir/hints" "$dir/cdc_raw"
sed -e "s|@DATA_DIR@|$dir|g" -e "s|@NATIVE_PORT@|$native_port|g" \
  -e "s|@STORAGE_PORT@|$storage_port|g" -e "s|@SSL_STORAGE_PORT@|$((storage_port + 1))|g" \
  "$here/cassandra.yaml" > "$dir/conf/cassandra.yaml"
cp "$here/logback.xml" "$dir/conf/logback.xml"

jamm="$(ls "$lib"/jamm-*.jar | head -n1)"
# The module exports/opens are those of Cassandra's own jvm17-server.options. No JMX port is
# opened (nothing here needs nodetool), so it never clashes with another JVM's 7199.
log "starting Cassandra (heap $heap) on 127.0.0.1:$native_port, state in $dir"
nohup java -Xms"$heap" -Xmx"$heap" -Xss256k -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
  -javaagent:"$jamm" -Djdk.attach.allowAttachSelf=true \
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
  --add-exports java.base/jdk.internal.ref=ALL-UNNAMED \
  --add-exports java.base/sun.nio.ch=ALL-UNNAMED \
  --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED \
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED \
  --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED \
  --add-exports java.sql/java.sql=ALL-UNNAMED \
  --add-exports java.base/java.lang.ref=ALL-UNNAMED \
  --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED \
  --add-opens java.base/java.lang.module=ALL-UNNAMED \
  --add-opens java.base/jdk.internal.loader=ALL-UNNAMED \
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED \
  --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED \
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED \
  --add-opens java.base/jdk.internal.module=ALL-UNNAMED \
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED \
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED \
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
  --add-opens java.base/java.io=ALL-UNNAMED \
  --add-opens java.base/java.nio=ALL-UNNAMED \
  --add-opens java.base/java.util.concurrent=ALL-UNNAMED \
  --add-opens java.base/java.util=ALL-UNNAMED \
  --add-opens java.base/java.util.concurrent.atomic=ALL-UNNAMED \
  --add-opens java.base/java.lang=ALL-UNNAMED \
  --add-opens java.base/java.math=ALL-UNNAMED \
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED \
  --add-opens java.base/java.net=ALL-UNNAMED \
  -Dcassandra.config="file://$dir/conf/cassandra.yaml" \
  -Dlogback.configurationFile="$dir/conf/logback.xml" \
  -Dcassandra.logdir="$dir/logs" -Dcassandra.storagedir="$dir" \
  -Dcassandra-foreground=yes \
  -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.ring_delay_ms=100 \
  -Dcassandra.superuser_setup_delay_ms=0 \
  -cp "$dir/conf:$lib/*" org.apache.cassandra.service.CassandraDaemon \
  > "$dir/logs/stdout.log" 2>&1 &
echo $! > "$dir/pid"

for _ in $(seq 1 180); do
  if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "Cassandra exited during startup; last lines of its logs:" >&2
    tail -n 40 "$dir/logs/stdout.log" "$dir/logs/system.log" >&2 2>/dev/null || true
    exit 1
  fi
  if version=$(cql_up); then
    log "Cassandra $version answers CQL on 127.0.0.1:$native_port"
    exit 0
  fi
  sleep 1
done
echo "Cassandra did not answer CQL within 180 s; last lines of its log:" >&2
tail -n 40 "$dir/logs/system.log" >&2 || true
exit 1
