#!/usr/bin/env bash
# One line per evaluation set: micro TP, FP, FN, F1 and how many theme-less
# documents were tagged, for comparing two rulesets (or two engines) across
# every set at once before a rule edit lands:
#
#   scripts/eval-sets.sh --rules new.yaml --baseline old.yaml   # each set's micro F1 and theme-less count, old -> new
#   scripts/eval-sets.sh --unmarked                             # typed without diacritics
#   TAGCTL=/tmp/old-tagctl scripts/eval-sets.sh > before.txt    # two engines: diff the two outputs
#
# Arguments go to `tagctl eval` (--rules, --baseline, --unmarked,
# --title-first-line ...); with --baseline each line ends with tagctl's own
# comparison. TAGCTL names another binary (default: this tree's, built once). The sets
# eval/README.md's table marks **held out** are left out: those are run once,
# on purpose, never in a loop of edits. The 2017 sets hold only ids and read
# their texts from $CORPUS (default ../shared/corpus/vi-news.jsonl.gz).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${CORPUS:-../shared/corpus/vi-news.jsonl.gz}
heldout=$(grep '^| `' eval/README.md | grep -F '**held out**' | grep -o '`[^`]*\.jsonl`' | tr -d '`')
if [ -z "${TAGCTL:-}" ]; then
	TAGCTL=$(mktemp)
	trap 'rm -f "$TAGCTL"' EXIT
	go build -o "$TAGCTL" ./cmd/tagctl
fi
for f in eval/*.jsonl; do
	name=$(basename "$f" .jsonl)
	if grep -qxF "$name.jsonl" <<<"$heldout"; then
		continue
	fi
	args=(--gold "$f")
	case $name in vi-news*) args+=(--corpus "$CORPUS") ;; esac
	out=$("$TAGCTL" eval "${args[@]}" "$@" 2>&1) || { echo "$name: tagctl eval failed: $out" >&2; exit 1; }
	micro=$(awk '$1 == "micro" { print $2, $3, $4, $7; exit }' <<<"$out")
	themeless=$(sed -n 's/.*of which tagged with any theme: //p' <<<"$out")
	# tagctl eval --baseline: its micro F1 and theme-less count, old -> new.
	against=$(awk '/^against baseline/ { b = 1 } b && $1 == "micro" { printf " | F1 %s -> %s", $2, $3 }
		/^theme-less documents tagged:/ { printf " | theme-less %s -> %s", $4, $6 }' <<<"$out")
	echo "$name $micro | $themeless$against"
done
