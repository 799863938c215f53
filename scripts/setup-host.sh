#!/bin/sh
# Prepare a Debian/Ubuntu host for quantbench (idempotent; run as root):
#   - install docker.io, debootstrap, qemu-user-static, binfmt-support when missing
#   - start dockerd in the background when no engine answers, and wait for it
#   - mount binfmt_misc and enable QEMU for the other architecture (qemu-aarch64 on an amd64
#     host, so arm64 containers run there; qemu-x86_64 on an arm64 host)
# Each step is skipped when it is already done. No systemd needed.
set -eu

log() { printf 'setup-host: %s\n' "$*"; }
die() { printf 'setup-host: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0)"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script knows Debian/Ubuntu only"

# 1. Packages (each command -> the package that provides it)
missing=""
command -v dockerd >/dev/null 2>&1 || missing="$missing docker.io"
command -v debootstrap >/dev/null 2>&1 || missing="$missing debootstrap"
if [ "$(uname -m)" = aarch64 ]; then foreign=qemu-x86_64; else foreign=qemu-aarch64; fi
command -v "$foreign-static" >/dev/null 2>&1 || missing="$missing qemu-user-static"
command -v update-binfmts >/dev/null 2>&1 || missing="$missing binfmt-support"
if [ -n "$missing" ]; then
    log "installing:$missing"
    apt-get update -qq
    # shellcheck disable=SC2086  # word splitting of the package list is wanted
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
else
    log "packages present"
fi

# 2. Docker engine (docker.io brings the docker client used to ask it)
docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if docker_answers; then
    log "docker engine answers ($(docker version --format '{{.Server.Version}}'))"
else
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        log "starting docker with systemd"
        systemctl start docker
    else
        log "starting dockerd in the background (log: /var/log/dockerd.log)"
        nohup dockerd >/var/log/dockerd.log 2>&1 &
    fi
    waited=0
    until docker_answers; do
        waited=$((waited + 1))
        [ "$waited" -le 60 ] || die "dockerd did not answer within 60 s; see /var/log/dockerd.log"
        sleep 1
    done
    log "docker engine ready after ${waited} s"
fi

# 3. QEMU for the other architecture's containers
binfmt=/proc/sys/fs/binfmt_misc
if ! grep -q binfmt_misc /proc/mounts; then
    log "mounting binfmt_misc"
    mount -t binfmt_misc binfmt_misc "$binfmt"
fi
if [ -f "$binfmt/$foreign" ] && grep -q '^enabled' "$binfmt/$foreign" \
    && grep -q '^flags:.*F' "$binfmt/$foreign"; then
    log "$foreign registered ($(grep '^flags' "$binfmt/$foreign"))"
else
    log "enabling $foreign"
    update-binfmts --enable "$foreign"
    grep -q '^flags:.*F' "$binfmt/$foreign" \
        || die "$foreign is registered without the F flag; reinstall qemu-user-static"
fi
log "done"
