#!/usr/bin/env bash
# Set up everything Live Transcriber needs on a Debian/Ubuntu machine, idempotently:
#   1. the Debian packages (through sudo when not root; only the missing ones),
#   2. .venv with the pinned Python dependencies (re-installed only when the pins change).
# Usage: scripts/bootstrap.sh [run|test]   ("test" adds what the test suite uses)
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${1:-run}"

# What the app needs at run time: Qt's native libraries, PortAudio (PyAudio compiles against
# it), PulseAudio's ALSA plugin so PortAudio reaches the sound server, and a keyring daemon.
run_packages=(
  libglib2.0-0 libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0
  portaudio19-dev libasound2-plugins gcc
)
# What the tests add: a virtual screen, a private sound server with a virtual microphone,
# a real Secret Service keyring in a private D-Bus session, speech synthesis for fixtures.
test_packages=(
  xvfb xdotool pulseaudio pulseaudio-utils sox gnome-keyring dbus-x11 libglib2.0-bin
  libsecret-tools desktop-file-utils flite
  dbus-daemon at-spi2-core python3-pyatspi xclip
  x11-utils appstream shellcheck
)

packages=("${run_packages[@]}")
[ "$profile" = "test" ] && packages+=("${test_packages[@]}")

# Python headers and venv support, only when the interpreter lacks them (Debian's python3).
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null; then packages+=(python3 python3-venv python3-dev); fi
if command -v "$python" >/dev/null; then
  "$python" -c 'import ensurepip' 2>/dev/null || packages+=(python3-venv)
  pyinc=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  [ -f "$pyinc/Python.h" ] || packages+=(python3-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The virtual environment, re-synced whenever pyproject.toml or the lock file changes. `run`
# installs what the app needs and nothing else; `test` adds the test and packaging tools (the
# dev, package and bench extras: CI runs the benchmarks' smoke versions, plots included). Test is a superset of run, so either stamp satisfies `run`.
want=$(cat pyproject.toml requirements/constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
synced() { [ -f ".venv/.installed-$1" ] && [ "$(cat ".venv/.installed-$1")" = "$want" ]; }
if ! synced test && { [ "$profile" = "test" ] || ! synced run; }; then
  echo "bootstrap: installing Python dependencies into .venv"
  target="."
  [ "$profile" = "test" ] && target=".[dev,package,bench]"
  .venv/bin/python -m pip install -q -c requirements/constraints.txt -e "$target"
  echo "$want" > ".venv/.installed-$profile"
fi
