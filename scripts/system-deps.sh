#!/usr/bin/env bash
# Installs the system libraries and programs yomiage uses, where it can:
#   espeak-ng          fallback voice for every language (and Kokoro/Piper phonemes)
#   libportaudio2      live playback (PortAudio, used through python-sounddevice)
#   libsndfile1        reading/writing audio files (python-soundfile)
#   pulseaudio, pulseaudio-utils, libasound2-plugins
#                      a sound server and ALSA's pulse plugin: the test that proves real
#                      playback starts PulseAudio with a null sink and records its monitor
# On Debian/Ubuntu it runs apt-get (as root, or through sudo). Elsewhere it prints what to
# install by hand. Safe to run again: silent when everything is already there.
# Set YOMIAGE_SKIP_SYSTEM_DEPS=1 to skip it entirely.
set -uo pipefail

[ "${YOMIAGE_SKIP_SYSTEM_DEPS:-0}" = 1 ] && exit 0
say() { echo "system-deps: $*" >&2; }

case "$(uname -s)" in
  Darwin)
    if ! command -v espeak-ng >/dev/null 2>&1 \
        || ! { [ -e /opt/homebrew/lib/libportaudio.dylib ] || [ -e /usr/local/lib/libportaudio.dylib ]; }; then
      say "on macOS, install the voices' and audio libraries with: brew install espeak-ng portaudio"
    fi
    exit 0 ;;
esac

packages=(espeak-ng libportaudio2 libsndfile1 pulseaudio pulseaudio-utils libasound2-plugins)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  if ! command -v espeak-ng >/dev/null 2>&1 || ! ldconfig -p 2>/dev/null | grep -q libportaudio; then
    say "not a Debian-like system; please install by hand:"
    say "  Fedora:   sudo dnf install espeak-ng portaudio libsndfile pulseaudio pulseaudio-utils alsa-plugins-pulseaudio"
    say "  Arch:     sudo pacman -S espeak-ng portaudio libsndfile pulseaudio alsa-plugins"
    say "  openSUSE: sudo zypper install espeak-ng portaudio libsndfile1 pulseaudio pulseaudio-utils alsa-plugins-pulse"
  fi
  exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  say "missing: ${missing[*]}"
  say "install them with: sudo apt-get install --no-install-recommends ${missing[*]}"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
say "installing ${missing[*]}"
if ! apt_install 2>/dev/null; then
  "${sudo[@]}" apt-get update -q >/dev/null 2>&1 || true
  if ! apt_install; then
    say "apt-get could not install: ${missing[*]} (yomiage still runs; the features above need them)"
    exit 0
  fi
fi
say "installed ${missing[*]}"
