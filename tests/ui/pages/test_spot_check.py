"""The spot-check page, driven headlessly with AppTest on a temporary database: drawing a sample, judging items
one at a time (correct, incorrect, skip), the precision estimate against the service and xner.stats, resuming a
check, real Europarl data, and escaping of tokens, labels and corpus names."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from tests.apptest import html_bodies, load, seen
from tests.apptest import open_page as open_script
from tests.conftest import import_europarl, write
from xner.formats.parallel import SideOptions
from xner.services import spotcheck
from xner.services.aligning import align_corpus
from xner.services.demo import load_demo
from xner.services.importing import import_alignments, import_parallel
from xner.services.projecting import project_corpus
from xner.services.review import get_item
from xner.stats import wilson_interval
from xner.store.db import Store, open_store
from xner.store.models import SentencePair
from xner.ui.render import html_text

PAGE = "2_Spot_check"
DEMO = "demo-en-es"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def app_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The page's database ($XNER_DB) with the demo loaded, opened for the test too."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("XNER_DB", url)
    store = open_store(url)
    load_demo(store)
    yield store
    store.dispose()


def open_page(reviewer: str = "ana") -> AppTest:
    return open_script(PAGE, reviewer=reviewer)


def draw(at: AppTest, n: int, *, seed: int = 0, strata: list[str] | None = None) -> AppTest:
    at.number_input(key="spot_n").set_value(n)
    at.number_input(key="spot_seed").set_value(seed)
    if strata is not None:
        at.multiselect(key="spot_strata").set_value(strata)
    at.button(key="spot_draw").click().run()
    assert not at.exception
    return at


def estimate_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "stratum" in d.value.columns)


def shown_item(store: Store, check_id: int, skip: list[int] | None = None) -> spotcheck.CheckItem:
    item = spotcheck.next_unjudged_item(store, check_id, skip=skip or [])
    assert item is not None
    return item


def test_draw_judge_and_estimate_on_the_demo(app_store: Store) -> None:
    run = project_corpus(app_store, DEMO, method="heuristic").run_id
    at = open_page()
    assert at.selectbox(key="spot_run").value == run  # the newest run comes first
    assert not spotcheck.list_checks(app_store, DEMO, run_id=run)
    draw(at, 20, seed=3)

    [check] = spotcheck.list_checks(app_store, DEMO, run_id=run)
    assert (check.requested, check.seed, check.created_by, check.judged) == (20, 3, "ana", 0)
    assert check.drawn >= 20
    assert at.selectbox(key="spot_check").value == check.id
    assert seen(at.info[0].value).startswith(f"Spot check {check.id}: drew {check.drawn} spans")

    verdicts = [True, True, False, True, False, True, True]
    judged: dict[str, list[bool]] = {}
    for verdict in verdicts:
        item = shown_item(app_store, check.id)
        target = next(seen(h) for h in html_bodies(at) if "<div><b>Target (es)</b>" in seen(h))
        assert f"<sub>{item.span.label}</sub>" in target and " ".join(item.tgt_tokens[: item.span.start]) in target
        at.button(key="spot_correct" if verdict else "spot_wrong").click().run()
        assert not at.exception
        judged.setdefault(item.stratum, []).append(verdict)

    # the service stored each judgment, by the reviewer, on the item that was shown
    stored = spotcheck.check_items(app_store, check.id, judged=True)
    assert [i.correct for i in stored if i.judged_by == "ana"] == [i.correct for i in stored]
    assert sorted(i.correct for i in stored) == sorted(verdicts)
    assert at.get("progress")[0].proto.text == f"{len(verdicts)} / {check.drawn} judged"

    table = estimate_table(at).set_index("stratum")
    overall = table.loc["overall"]
    assert (overall["judged"], overall["correct"], overall["sampled"]) == (7, 5, check.drawn)
    for stratum, results in judged.items():
        row = table.loc[stratum]
        assert (row["judged"], row["correct"]) == (len(results), sum(results))
        low, high = wilson_interval(sum(results), len(results))
        assert row["95% low"] == pytest.approx(low) and row["95% high"] == pytest.approx(high)
        assert row["precision"] == pytest.approx(sum(results) / len(results))
    result = spotcheck.estimate(app_store, check.id)
    assert overall["95% low"] == pytest.approx(result.overall.low)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Projection precision (stratified)"] == f"{result.overall.precision:.1%}"
    assert metrics["More checks for ±0.050"] == str(result.more_checks(0.05))
    at.number_input(key="spot_width").set_value(0.1).run()
    assert {m.label: m.value for m in at.metric}["More checks for ±0.100"] == str(result.more_checks(0.1))

    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    points = dict(zip(chart["data"][0]["y"], chart["data"][0]["x"], strict=True))
    assert set(points) == {*judged, "<b>overall (weighted)</b>"}
    assert points["<b>overall (weighted)</b>"] == pytest.approx(result.overall.precision)


def test_skip_then_resume_in_a_new_session(app_store: Store) -> None:
    run = project_corpus(app_store, DEMO, method="heuristic").run_id
    at = draw(open_page(), 10, strata=["label"])
    [check] = spotcheck.list_checks(app_store, DEMO, run_id=run)
    assert check.strata == ("label",)
    first = shown_item(app_store, check.id)
    at.button(key="spot_skip").click().run()
    second = shown_item(app_store, check.id, skip=[first.id])
    at.button(key="spot_correct").click().run()
    assert [i.id for i in spotcheck.check_items(app_store, check.id, judged=True)] == [second.id]
    assert spotcheck.next_check_item(app_store, check.id).id == first.id  # skipping wrote nothing

    # another reviewer opens the page later: the check is listed with its progress and resumes where it stands
    later = open_page("bob")
    assert later.selectbox(key="spot_check").value == check.id
    assert "1/" in later.selectbox(key="spot_check").format_func(check.id)
    assert later.get("progress")[0].proto.text == f"1 / {check.drawn} judged"
    later.button(key="spot_wrong").click().run()
    judged = {i.id: (i.correct, i.judged_by) for i in spotcheck.check_items(app_store, check.id, judged=True)}
    assert judged == {second.id: (True, "ana"), first.id: (False, "bob")}


def test_all_skipped_items_come_back_and_a_finished_check_says_so(app_store: Store) -> None:
    project_corpus(app_store, DEMO, method="heuristic")
    at = draw(open_page(), 1, strata=[])  # no strata: one stratum, one item
    at.button(key="spot_skip").click().run()
    assert any(seen(i.value).startswith("Only skipped items are left (1)") for i in at.info)
    at.button(key="spot_unskip").click().run()
    at.button(key="spot_correct").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("All 1 sampled spans are judged")
    assert estimate_table(at).set_index("stratum").loc["all", "correct"] == 1


def test_a_second_sample_needs_no_name_but_judging_does(app_store: Store) -> None:
    run = project_corpus(app_store, DEMO, method="ngram").run_id
    at = load(PAGE).run()
    at.selectbox(key="spot_run").select(run).run()
    draw(at, 5)
    assert at.button(key="spot_correct").disabled and at.button(key="spot_wrong").disabled
    assert any("enter your name in the sidebar" in i.value for i in at.info)
    draw(at, 8, seed=1)
    checks = spotcheck.list_checks(app_store, DEMO, run_id=run)
    assert [c.requested for c in checks] == [5, 8]
    assert at.selectbox(key="spot_check").value == checks[-1].id  # the new sample is the one shown
    assert at.selectbox(key="spot_check").options == [
        at.selectbox(key="spot_check").format_func(c.id) for c in reversed(checks)
    ]


def test_page_guards_without_runs_and_reports_draw_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'bare.db'}"
    monkeypatch.setenv("XNER_DB", url)
    store = open_store(url)
    src = write(tmp_path / "en.conll", "Ada B-PER\nsings O\n\n")
    tgt = write(tmp_path / "yo.conll", "Ada B-PER\nkọrin O\n\n")
    import_parallel(store, src, tgt, corpus="tiny", src=SideOptions("en"), tgt=SideOptions("yo"), split="train")
    at = load(PAGE).run()
    assert not at.exception
    assert "has no projection run yet" in at.info[0].value

    write(tmp_path / "a.align", "0-0\n")
    import_alignments(store, tmp_path / "a.align", corpus="tiny", aligner="gold")
    write(tmp_path / "empty.align", "\n")
    project_corpus(store, "tiny", method="heuristic")
    import_alignments(store, tmp_path / "empty.align", corpus="tiny", aligner="none")
    empty = project_corpus(store, "tiny", method="heuristic").run_id  # nothing aligned: no spans
    at = open_page()
    assert at.selectbox(key="spot_run").value == empty
    draw(at, 3)
    assert "has no spans to check" in at.error[0].value
    store.dispose()


def test_escaping_of_tokens_labels_and_corpus_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'xss.db'}"
    monkeypatch.setenv("XNER_DB", url)
    store = open_store(url)
    label = SCRIPT  # labels are single words: the script payload, and the image one without spaces
    img_label = IMG.replace(" ", "/")
    img_tokens = IMG.split()
    src = write(tmp_path / "en.conll", f"{SCRIPT} B-{label}\nmet O\nBo B-{img_label}\n\n")
    tgt = write(
        tmp_path / "xx.conll",
        f"{SCRIPT} B-{label}\n" + "".join(f"{t} O\n" for t in img_tokens) + f"Bo B-{img_label}\n\n",
    )
    import_parallel(store, src, tgt, corpus=IMG, src=SideOptions("en"), tgt=SideOptions("xx"), split="train")
    write(tmp_path / "a.align", "0-0 1-1 2-4\n")
    import_alignments(store, tmp_path / "a.align", corpus=IMG, aligner="gold")
    project_corpus(store, IMG, method="heuristic")

    at = draw(open_page(reviewer=SCRIPT), 2)
    for _ in range(2):
        rendered = "\n".join(html_bodies(at))
        for payload in (SCRIPT, IMG, img_label, *img_tokens):
            if "<" in payload or ">" in payload or '"' in payload:
                assert payload not in rendered
        assert html_text(SCRIPT) == "&#60;script&#62;alert&#40;1&#41;&#60;/script&#62;"
        assert html_text(SCRIPT) in rendered and "&#34;&#62;&#60;img" in rendered
        at.button(key="spot_correct").click().run()
        assert not at.exception
    assert at.sidebar.selectbox(key="spot_corpus").value == IMG  # names are data in widgets, not markup
    strata = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["y"]  # Plotly reads tags in labels
    assert not any(SCRIPT in name or img_label in name for name in strata)
    assert any(name.startswith("&lt;script&gt;alert(1)&lt;/script&gt; / ") for name in strata)
    assert set(estimate_table(at)["stratum"]) >= {f"{label} / (0.8, 1]", "overall"}
    store.dispose()


@pytest.mark.slow
def test_spot_check_on_europarl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real EN-DE Europarl aligned with eflomal: draw 60 spans, judge 15 against the target gold."""
    url = f"sqlite:///{tmp_path / 'ep.db'}"
    monkeypatch.setenv("XNER_DB", url)
    store = open_store(url)
    import_europarl(store)
    links = align_corpus(store, "ep", options={"symmetrization": "intersection"}).run_id
    run = project_corpus(store, "ep", method="ngram", alignment_run=links).run_id

    at = draw(open_page(), 60, seed=11)
    [check] = spotcheck.list_checks(store, "ep", run_id=run)
    assert check.drawn >= 60
    verdicts = []
    for _ in range(15):
        item = shown_item(store, check.id)
        with store.session() as session:  # the German gold says whether the projected span is right
            tgt_id = session.scalar(select(SentencePair.tgt_sentence_id).where(SentencePair.id == item.pair_id))
        right = item.span in get_item(store, tgt_id).tgt_gold
        verdicts.append(right)
        at.button(key="spot_correct" if right else "spot_wrong").click().run()
        assert not at.exception
    table = estimate_table(at).set_index("stratum")
    assert (table.loc["overall", "judged"], table.loc["overall", "correct"]) == (15, sum(verdicts))
    assert sum(verdicts) / 15 > 0.3  # the projection is mostly right on Europarl
    store.dispose()
