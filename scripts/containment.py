#!/usr/bin/python3
"""Phrases that add nothing: within one term or exclusion, a phrase that holds another of the same
entry's phrases, word for word, matches nowhere the shorter one does not (the longer match wins, with
the same id and weight), so it only makes the file longer. Each rule round checks that it adds none.

  containment.py RULES.yaml                  every such pair: theme | kind | entry | longer | ⊃ | shorter
  containment.py RULES.yaml --baseline OLD   only the pairs RULES has and OLD has not (what an edit added)

A pair is left out where the shorter phrase is `unfolded` and the longer is not (typed without marks
only the longer one matches). Words are compared as the engine's words roughly are: NFC, lower case,
runs of letters and digits; `<n>` (a number slot) is a word of its own. Exit status 1 when a
--baseline run finds new pairs. Uses /usr/bin/python3 with python3-yaml."""
import re
import sys
import unicodedata

import yaml


def words(phrase):
    return re.findall(r"<n>|\w+", unicodedata.normalize("NFC", phrase).lower())


def pairs(path):
    rules = yaml.safe_load(open(path, encoding="utf-8"))
    out = []
    for theme in rules.get("themes") or []:
        for kind in ("terms", "exclusions"):
            for entry in theme.get(kind) or []:
                if isinstance(entry, str):
                    continue
                phrases = [entry["text"]] + list(entry.get("variants") or [])
                unfolded = set(entry.get("unfolded") or [])
                split = [words(p) for p in phrases]
                for i, longer in enumerate(split):
                    for j, shorter in enumerate(split):
                        if i == j or len(shorter) >= len(longer):
                            continue
                        if not any(longer[k:k + len(shorter)] == shorter for k in range(len(longer) - len(shorter) + 1)):
                            continue
                        if phrases[j] in unfolded and phrases[i] not in unfolded:
                            continue
                        out.append((theme["id"], kind, entry["text"], phrases[i], phrases[j]))
    return out


def main(argv):
    if len(argv) not in (2, 4) or len(argv) == 4 and argv[2] != "--baseline":
        sys.exit(__doc__)
    found = pairs(argv[1])
    if len(argv) == 4:
        old = set(pairs(argv[3]))
        found = [p for p in found if p not in old]
    for theme, kind, entry, longer, shorter in found:
        print(f"{theme} | {kind} | {entry[:30]} | {longer} | ⊃ | {shorter}")
    print(f"{len(found)} pairs", file=sys.stderr)
    return 1 if len(argv) == 4 and found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
