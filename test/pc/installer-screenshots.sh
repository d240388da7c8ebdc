#!/usr/bin/env bash
# Acceptance check by eye: the Debian 12 i386 installer (netboot files as a mini.iso, built
# by test/fixtures/build-pc-isos.sh) on Terrarium's PC under the software CPU.
#   docs/screenshots/installer-menu.png          the graphical (vesamenu) boot menu
#   docs/screenshots/installer-first-screen.png  after Enter: the installer's first screen
# Takes about 10 minutes of guest time; run after `npm run build && npm run fixtures`.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ISO="$ROOT/test/fixtures/out/debian-installer-i386.iso"
OUT="${1:-$ROOT/docs/screenshots}"
[[ -e "$ISO" ]] || { echo "missing $ISO: run npm run fixtures" >&2; exit 1; }
mkdir -p "$OUT"
run() { node "$ROOT/bin/terrarium.js" run --cdrom "$ISO" --memory 512 --accel interpreter --serial none "$@"; }
run --exit-after 20 --screenshot "$OUT/installer-menu.png"
run --keys Enter@20 --exit-after 600 --screenshot "$OUT/installer-first-screen.png"
echo "screenshots in $OUT"
