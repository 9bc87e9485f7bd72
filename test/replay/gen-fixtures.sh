#!/bin/sh
# Regenerates the replay suite's extra speech fixtures (raw 8 kHz µ-law) with espeak-ng and sox.
# Needs: apt-get install -y espeak-ng sox
set -eu
out="$(dirname "$0")/../fixtures/audio/replay"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# vm-beep: a voicemail greeting, 300 ms pause, a 500 ms 1 kHz beep, 800 ms of line silence.
espeak-ng -v en-gb -s 170 -w "$tmp/vm.wav" "Hi, you've reached Zed. I can't take your call right now, please leave a message after the tone."
sox "$tmp/vm.wav" -r 8000 -c 1 -b 16 "$tmp/vm8.wav" gain -n -3
sox -n -r 8000 -c 1 -b 16 "$tmp/gap.wav" trim 0 0.3
sox -n -r 8000 -c 1 -b 16 "$tmp/beep.wav" synth 0.5 sine 1000 gain -6
sox -n -r 8000 -c 1 -b 16 "$tmp/tail.wav" trim 0 0.8
sox "$tmp/vm8.wav" "$tmp/gap.wav" "$tmp/beep.wav" "$tmp/tail.wav" -t raw -e mu-law -b 8 -r 8000 -c 1 "$out/vm-beep.ulaw"
echo "wrote $out/vm-beep.ulaw"
