#!/usr/bin/python3
"""Checks one writer's part of a fresh evaluation set (eval/fresh-set-brief.md): valid JSON lines with
the fields of the recent sets, known theme ids, no theme both required and optional, unique ids, and
no text sharing more than 10% of its word 5-grams with any text in eval/*.jsonl or in the other parts
(the PART files' siblings named part*.jsonl; never the file itself, so a set merged into eval/ can be checked
again). Exit status 1 on any problem.

usage: /usr/bin/python3 scripts/check-fresh-set.py DIR/partN.jsonl"""
import json, sys, glob, re, unicodedata, os
THEMES = {"ai", "semiconductors", "ehealth", "drones", "green_transition"}
def words(t):
    t = unicodedata.normalize("NFC", t).lower()
    return re.findall(r"\w+", t)
def grams(t):
    w = words(t)
    return {tuple(w[i:i+5]) for i in range(len(w) - 4)}
if len(sys.argv) != 2:
    sys.exit(__doc__)
path = sys.argv[1]
others = {}
# Every eval set and the sibling parts, but never the file itself: a set already merged into eval/ is checked
# against the others only.
candidates = glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "eval", "*.jsonl")) + glob.glob(os.path.join(os.path.dirname(os.path.abspath(path)), "part*.jsonl"))
for f in sorted({os.path.abspath(p) for p in candidates} - {os.path.abspath(path)}):
    for line in open(f, encoding="utf-8"):
        try:
            d = json.loads(line)
        except Exception:
            continue
        if "text" in d:
            others[(f, d.get("id"))] = grams(d["text"])
bad = 0; ids = set(); n = 0; stats = {"themeless": 0, "optional_only": 0, "required": {t: 0 for t in THEMES}, "en": 0, "long": 0}
for ln, line in enumerate(open(path, encoding="utf-8"), 1):
    try:
        d = json.loads(line)
    except Exception as e:
        print(f"line {ln}: not JSON: {e}"); bad += 1; continue
    n += 1
    for k in ("id", "lang", "source", "text", "required", "optional", "note"):
        if k not in d:
            print(f"line {ln}: missing {k}"); bad += 1
    if d.get("id") in ids:
        print(f"line {ln}: duplicate id {d.get('id')}"); bad += 1
    ids.add(d.get("id"))
    req, opt = set(d.get("required", [])), set(d.get("optional", []))
    if not (req | opt) <= THEMES:
        print(f"line {ln}: unknown theme {(req|opt) - THEMES}"); bad += 1
    if req & opt:
        print(f"line {ln}: theme in both lists {req & opt}"); bad += 1
    if not req and not opt: stats["themeless"] += 1
    elif not req: stats["optional_only"] += 1
    for t in req & THEMES: stats["required"][t] += 1
    if d.get("lang") == "en": stats["en"] += 1
    if len(d.get("text", "").split()) >= 400: stats["long"] += 1
    g = grams(d.get("text", ""))
    if g:
        for (f, i), og in others.items():
            share = len(g & og) / len(g)
            if share > 0.10:
                print(f"line {ln} ({d.get('id')}): shares {share:.0%} of its 5-grams with {os.path.basename(f)} {i}"); bad += 1
print(f"{n} lines, {bad} problems; stats: {json.dumps(stats, ensure_ascii=False)}")
sys.exit(1 if bad else 0)
