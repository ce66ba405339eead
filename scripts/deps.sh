#!/bin/sh
# Installs what llmload needs to build, test and benchmark. Debian/Ubuntu: apt-get
# (through sudo when not root). Elsewhere: prints the package names and stops.
set -eu

DEBIAN_PKGS="build-essential cmake pkg-config libncurses-dev libcurl4-openssl-dev \
libcjson-dev libuv1-dev libhttp-parser-dev libjsmn-dev libssl-dev libcmocka-dev tmux \
nghttp2-client zsh"

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $DEBIAN_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing="$missing $p"
  done
  [ -z "$missing" ] && exit 0
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "llmload: need root to install:$missing (run as root or install sudo)" >&2
        exit 1
      fi
    fi
    echo "llmload: installing:$missing" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
    exit 0
  fi
fi

cat >&2 <<MSG
llmload: this set-up script installs packages only on Debian/Ubuntu (apt-get).
Install these yourself, then run 'make build':
  Debian/Ubuntu: $DEBIAN_PKGS
  Homebrew:      cmake pkg-config ncurses curl cjson libuv http-parser jsmn openssl cmocka tmux nghttp2
MSG
exit 1
