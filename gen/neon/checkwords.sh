#!/usr/bin/env bash
# Disassembles every WORD of the given arm64 assembly files with llvm-mc
# and fails when an instruction differs from the mnemonic in its comment,
# so a wrong encoder can never hide behind a right-looking comment.
# Usage: checkwords.sh LLVM-MC FILE.s...
set -euo pipefail
mc=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One line per distinct word: the hex bits, a tab, the comment.
grep -h 'WORD \$0x' "$@" |
	sed -E 's/.*WORD \$0x([0-9a-fA-F]{8}) *\/\/ *(.*)$/\1\t\2/' | sort -u >"$tmp/words"
if [ ! -s "$tmp/words" ]; then
	echo "checkwords: no WORD found in $*" >&2
	exit 1
fi
# llvm-mc reads the bytes in memory order: little-endian.
awk -F'\t' '{ w = $1; printf "0x%s 0x%s 0x%s 0x%s\n", substr(w,7,2), substr(w,5,2), substr(w,3,2), substr(w,1,2) }' \
	"$tmp/words" >"$tmp/bytes"
"$mc" --disassemble -triple=aarch64 -mattr=+neon,+dotprod <"$tmp/bytes" 2>"$tmp/err" |
	grep -v '^\s*\.text' | sed -E 's/^\s+//; s/\s+/ /g; s/ *\/\/.*$//' >"$tmp/dis"
if [ -s "$tmp/err" ]; then
	cat "$tmp/err" >&2
	exit 1
fi
cut -f2 "$tmp/words" | sed -E 's/\s+/ /g; s/ +$//' >"$tmp/want"
if [ "$(wc -l <"$tmp/dis")" -ne "$(wc -l <"$tmp/want")" ]; then
	echo "checkwords: llvm-mc returned $(wc -l <"$tmp/dis") instructions for $(wc -l <"$tmp/want") words" >&2
	exit 1
fi
if ! paste -d'\t' "$tmp/words" "$tmp/dis" | awk -F'\t' '$2 != $3 { printf "WORD $0x%s: comment \"%s\", llvm-mc \"%s\"\n", $1, $2, $3; bad = 1 } END { exit bad }'; then
	echo "checkwords: WORD comments disagree with llvm-mc (above)" >&2
	exit 1
fi
echo "checkwords: $(wc -l <"$tmp/words") distinct WORDs agree with llvm-mc"
