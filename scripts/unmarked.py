#!/usr/bin/python3
"""Text typed without diacritics: make it, and find which unfolded words could be folded.

  strip < IN.jsonl > OUT.jsonl
      Copies JSON lines, removing every diacritic from "text" (and đ -> d), so a marked set or corpus
      can be tagged again as if typed without marks:
        scripts/unmarked.py strip < eval/recent25-heldout.jsonl > /tmp/r25-unmarked.jsonl
      (tagctl eval --unmarked and tagctl rules diff --unmarked do this themselves, with tagger.Unmark;
      this copy is for other tools.)

  collisions RULES.yaml CORPUS.jsonl[.gz]
      For every marked word or phrase of a `folded: false` term or exclusion, or in the `unfolded:` list of
      a folded one, counts its matches in the corpus as written (marked) and, with every text stripped, the
      matches of its unmarked form. Where the
      unmarked count is no higher, no everyday word collides once the marks are gone and the phrase can be
      folded; where it is higher, folding would also match other words ("chó" -> "cho", "đền" -> "đến").
      Prints theme, kind, entry, phrase, marked, unmarked, ratio (tab-separated), worst ratio first.
      Matching is by whole words, case-insensitive (case-sensitive for case_sensitive entries).

  needs RULES.yaml CORPUS.jsonl[.gz]
      The same count for the phrases of the terms' `needs` lists, which the engine reads in any case
      and, in text typed without marks, without marks: a setting word whose unmarked form is an everyday
      word ("lõi" -> "loi", also lợi, lỗi, lời) meets the setting almost everywhere in such text, and so
      does one written without marks that stripped words become ("GaN", read in any case, is "gan", liver,
      and typed without marks also "gần", near; no `unfolded:` mends that one: choose another word). A phrase in several lists (a YAML alias) is printed
      once, with the first term that names it and how many do. A needs phrase that holds a case-sensitive
      term's own phrase ("AI can" for "AI") is counted here in any case, though the engine keeps that part
      as written ("ai cần", who needs, does not meet it): its ratio overstates.
      Counts are of the text as written: a phrase in the old tone placement ("số hoá") counts 0 marked in a
      corpus that writes "số hóa", though the engine reads both; such an "inf" row is no collision.
      A needs phrase a term lists in `unfolded:` is read only as written, so it is left out for that term.

  folded RULES.yaml CORPUS.jsonl[.gz]
      The same count for the marked phrases of the folded terms and exclusions (those not in their
      `unfolded:` list), which the engine reads without marks in text typed without them: a ratio well
      above 1 is a phrase to list as `unfolded` ("độ đèn" -> "do den", also "đỏ đen", "đó đến"), or one
      an earlier exclusion already guards ("y tế số" -> "y tế sơ cứu"): read the rules before acting.

All use /usr/bin/python3, with python3-yaml for collisions and needs."""
import gzip, json, re, sys, unicodedata
from collections import Counter


def strip(s):
    s = unicodedata.normalize("NFD", s)
    s = "".join(c for c in s if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", s.replace("đ", "d").replace("Đ", "D"))


def cmd_strip():
    for line in sys.stdin:
        if not line.strip():
            continue
        d = json.loads(line)
        if isinstance(d.get("text"), str):
            d["text"] = strip(d["text"])
        print(json.dumps(d, ensure_ascii=False))


WORD = re.compile(r"\w+")


def entries(rules):
    """(theme, kind, entry, folded, own phrases) of every term and exclusion; folded from `defaults` when
    the entry does not say, and a shorthand entry (a bare string) read as its text."""
    default = (rules.get("defaults") or {}).get("folded", False)
    for theme in rules["themes"]:
        for kind in ("term", "exclusion"):
            for e in theme.get(kind + "s") or []:
                if isinstance(e, str):
                    e = {"text": e}
                yield theme["id"], kind, e, e.get("folded", default), [e["text"]] + list(e.get("variants") or [])


def unfolded_phrases(rules):
    """(theme, kind, entry, phrase, case_sensitive) of the marked phrases that match only as written: all of
    a folded: false entry, and its unfolded: list (which may name a term's needs phrases)."""
    phrases = []
    for th, kind, e, folded, own in entries(rules):
        kept = ([] if folded else own) + [p for p in e.get("unfolded") or [] if folded or p not in own]
        for p in kept:
            if strip(p) != p:
                phrases.append((th, kind, e.get("id") or e["text"], p, bool(e.get("case_sensitive"))))
    return phrases


def needs_phrases(rules):
    """(theme, "needs", first term (and how many), phrase, False) of the needs phrases, once each, leaving out
    a term's needs phrases that its `unfolded:` list keeps to their marks. A phrase written without marks is
    counted too: typed without them, other words become it ("gan" is also "gần")."""
    seen = {}
    for theme in rules["themes"]:
        for e in theme.get("terms") or []:
            for p in e.get("needs") or []:
                if p not in (e.get("unfolded") or []):
                    seen.setdefault((theme["id"], p), []).append(e.get("id") or e["text"])
    return [(th, "needs", terms[0] + (f" (+{len(terms) - 1})" if len(terms) > 1 else ""), p, False)
            for (th, p), terms in seen.items()]


def folded_phrases(rules):
    """(theme, kind, entry, phrase, case_sensitive) of the marked phrases of folded entries, not unfolded."""
    phrases = []
    for th, kind, e, folded, own in entries(rules):
        if folded:
            for p in own:
                if strip(p) != p and p not in (e.get("unfolded") or []) and "<n>" not in p:
                    phrases.append((th, kind, e.get("id") or e["text"], p, bool(e.get("case_sensitive"))))
    return phrases


def cmd_collisions(rules_path, corpus_path, gather=unfolded_phrases):
    import yaml
    rules = yaml.safe_load(open(rules_path, encoding="utf-8"))
    phrases = gather(rules)  # (theme, kind, entry, phrase, case_sensitive)
    # index: first word -> list of word tuples, for the marked and the unmarked forms, exact and lower-cased
    want = {}
    for _, _, _, p, cs in phrases:
        for form in (p, strip(p)):
            w = tuple(WORD.findall(unicodedata.normalize("NFC", form if cs else form.lower())))
            want.setdefault((w[0], cs), set()).add(w)
    as_written, stripped = Counter(), Counter()

    def scan(words, cs, counts):
        for i, w in enumerate(words):
            for t in want.get((w, cs), ()):
                if tuple(words[i:i + len(t)]) == t:
                    counts[(t, cs)] += 1

    opener = gzip.open if corpus_path.endswith(".gz") else open
    with opener(corpus_path, "rt", encoding="utf-8") as f:
        for line in f:
            text = unicodedata.normalize("NFC", json.loads(line).get("text") or "")
            for t, counts in ((text, as_written), (strip(text), stripped)):
                scan(WORD.findall(t), True, counts)
                scan(WORD.findall(t.lower()), False, counts)
    rows = []
    for theme, kind, entry, p, cs in phrases:
        key = lambda form: (tuple(WORD.findall(unicodedata.normalize("NFC", form if cs else form.lower()))), cs)
        marked = as_written[key(p)]
        unmarked = stripped[key(strip(p))]
        ratio = unmarked / marked if marked else float("inf") if unmarked else 1.0
        rows.append((ratio, theme, kind, entry, p, marked, unmarked))
    rows.sort(key=lambda r: (-r[0], r[1], r[3]))
    for ratio, theme, kind, entry, p, marked, unmarked in rows:
        r = "inf" if ratio == float("inf") else f"{ratio:.2f}"
        print(f"{theme}\t{kind}\t{entry}\t{p}\t{marked}\t{unmarked}\t{r}")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "strip":
        cmd_strip()
    elif len(sys.argv) == 4 and sys.argv[1] == "collisions":
        cmd_collisions(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "needs":
        cmd_collisions(sys.argv[2], sys.argv[3], needs_phrases)
    elif len(sys.argv) == 4 and sys.argv[1] == "folded":
        cmd_collisions(sys.argv[2], sys.argv[3], folded_phrases)
    else:
        sys.exit(__doc__)
