"""The projection engine's output is exactly what it was before its speed-up (issue 19): spans, labels,
confidences (to the last bit), source spans, links and order, for heuristic and ngram under their main options.

Inputs: the 100 demo pairs (data/demo: English and Spanish gold entities, a real alignment), each with its
alignment and two perturbations of it (a seeded share of links dropped; links added at random), so that merges,
collisions, holes, crossing and lexical links all occur. ``same_output.json`` holds what the code before the
speed-up produced for these inputs (written by this module run as a script against that code:
``PYTHONPATH=<old checkout> .venv/bin/python tests/engine/project/test_same_output.py``).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from xner.engine.project import PROJECTORS
from xner.engine.project.ngram import NgramProjector, _targets
from xner.formats.conll import read_conll
from xner.types import Link, ProjectedSpan, Sentence, Span

DEMO = Path(__file__).resolve().parents[3] / "data" / "demo"
EXPECTED = Path(__file__).with_name("data") / "same_output.json"

CONFIGS: list[tuple[str, dict[str, object]]] = [
    ("heuristic", {}),
    ("heuristic", {"merge_rule": "gap", "merge_distance": 2, "collisions": "overlap", "punctuation": "unicode"}),
    ("heuristic", {"order": "shortest_first", "length_ratio_threshold": 0.8, "collisions": "first_wins"}),
    ("heuristic", {"drop_punctuation": False}),
    ("ngram", {}),
    ("ngram", {"score": "links", "lexical": "all", "punctuation_edges": True}),
    ("ngram", {"matching": "optimal", "lexical": "off", "max_length": 4}),
    ("ngram", {"min_score": 0.5, "lexical_prefix": 0}),
]


def cases() -> list[tuple[Sentence, list[str], set[Link]]]:
    """(source with entities, target tokens, links): each demo pair with its alignment and two perturbations."""
    english = list(read_conll(DEMO / "en.conll"))
    spanish = list(read_conll(DEMO / "es.conll"))
    lines = (DEMO / "en-es.align").read_text(encoding="utf-8").splitlines()
    rng = random.Random(19)
    result = []
    for src, tgt, line in zip(english, spanish, lines, strict=True):
        links = {(int(i), int(j)) for i, j in (item.split("-") for item in line.split())}
        dropped = {link for link in sorted(links) if rng.random() > 0.3}
        n_src, n_tgt = len(src.tokens), len(tgt.tokens)
        added = links | {(rng.randrange(n_src), rng.randrange(n_tgt + 1)) for _ in range(n_src // 3)}  # one past
        result += [(src, list(tgt.tokens), variant) for variant in (links, dropped, added)]
    return result


def as_json(spans: list[ProjectedSpan]) -> list[list[object]]:
    return [
        [p.span.start, p.span.end, p.span.label, p.method, p.confidence]
        + ([p.src_span.start, p.src_span.end, p.src_span.label] if p.src_span else [None, None, None])
        + [[list(link) for link in p.links]]
        for p in spans
    ]


def outputs() -> dict[str, list[list[list[object]]]]:
    inputs = cases()
    result = {}
    for method, options in CONFIGS:
        projector = PROJECTORS.create(method, {key: str(value) for key, value in options.items()})
        projected = projector.project_batch([c[0] for c in inputs], [c[1] for c in inputs], [c[2] for c in inputs])
        result[f"{method} {json.dumps(options, sort_keys=True)}"] = [as_json(spans) for spans in projected]
    return result


def test_the_demo_pairs_project_exactly_as_before_the_speed_up():
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(outputs()))  # the same round trip (floats by repr: exact)
    assert actual.keys() == expected.keys()
    for config, pairs in expected.items():
        assert sum(map(len, pairs)) > 100, config  # the cases do project
        for number, (got, wanted) in enumerate(zip(actual[config], pairs, strict=True)):
            assert got == wanted, f"{config}: case {number} (demo pair {number // 3 + 1})"


@pytest.mark.parametrize("method", ["heuristic", "ngram"])
def test_a_list_of_links_with_repeats_projects_as_its_set(method):
    projector = PROJECTORS.create(method)
    for src, tgt, links in cases()[:60]:
        repeated = sorted(links) + sorted(links)[::2]
        assert projector.project(src, tgt, repeated) == projector.project(src, tgt, links)


def test_ngram_reads_the_links_once_per_pair_with_the_same_result_as_a_scan_per_entity():
    # overlapping entities (never from CoNLL, possible from JSONL) included
    for src, tgt, links in cases():
        entities = list(src.spans)
        overlapping = [*entities, *(Span(s.start, min(s.end + 1, len(src.tokens)), "X") for s in entities[:1])]
        for spans in (entities, overlapping):
            projector = NgramProjector(lexical="off")
            targets = [_targets(e, {(i, j) for i, j in links if j < len(tgt)}) for e in spans]
            assert projector._entity_targets(Sentence(src.tokens, tuple(spans)), spans, tgt, links) == targets


if __name__ == "__main__":
    EXPECTED.parent.mkdir(exist_ok=True)
    EXPECTED.write_text(json.dumps(outputs(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {EXPECTED} with {sys.modules['xner'].__file__}")
