"""The review page's navigation (go to a sentence, token search, queue choices kept per reviewer), its windowed
alignment matrix for long pairs, and display fixes of issue 17 (items left after switching corpus, a reject shown
without entities, the spot check's judged count), driven headlessly with AppTest on temporary SQLite databases.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import click, html_bodies, load, seen, table
from tests.conftest import DEMO
from tests.ui.pages import review_harness
from tests.ui.pages.review_harness import CORPUS, bodies, long_pair_store, open_page, queue_left, rendered, shown
from xner.formats.parallel import SideOptions
from xner.services import review, spotcheck
from xner.services.importing import import_alignments, import_parallel
from xner.services.projecting import project_corpus
from xner.store.db import Store
from xner.types import ReviewStatus
from xner.ui.render import html_text

demo_file, demo = review_harness.demo_file, review_harness.demo  # the queued demo project (fixtures)


def open_navigation(at: AppTest) -> AppTest:
    """Open the "Go to a sentence · search tokens" expander, as a click on it does."""
    at.session_state["review_nav_open"] = True
    at.run()
    assert not at.exception, at.exception
    return at


def go_to(at: AppTest, reference: str) -> AppTest:
    at.text_input(key="review_goto").input(reference).run()
    assert not at.exception, at.exception
    return at


def leases(store: Store) -> set[tuple[int, str]]:
    return {(lease.sentence_id, lease.reviewer) for lease in review.active_leases(store, CORPUS)}


# --- going to a sentence ---------------------------------------------------------------------------------------


def test_go_to_a_sentence_by_number_or_split_and_position(demo) -> None:
    store, _ = demo
    at = open_navigation(open_page("ana"))
    first = shown(at).sentence_id
    target = review.next_item(store, CORPUS, skip=[first])
    assert target is not None

    go_to(at, f"Sentence {target.sentence_id}")
    assert shown(at).sentence_id == target.sentence_id
    assert f"Sentence {target.sentence_id}" in rendered(at)
    assert leases(store) == {(target.sentence_id, "ana")}  # reserved for ana; the queue's item released
    assert not at.button(key="review_accept").disabled

    go_to(at, f"{target.split} {target.position - 1}")
    item = shown(at)
    assert (item.split, item.position) == (target.split, target.position - 1)

    go_to(at, "train 100000")
    assert shown(at).sentence_id == item.sentence_id  # nothing else changed
    assert "split 'train' of corpus 'demo-en-es' has positions 0 to 99; got 100000" in seen(at.error[0].value)


def test_an_item_another_reviewer_holds_is_shown_read_only_until_released(demo) -> None:
    store, _ = demo
    theirs = review.next_item(store, CORPUS, claim_for="bob")
    assert theirs is not None
    at = open_navigation(open_page("ana"))
    go_to(at, str(theirs.sentence_id))

    assert shown(at).sentence_id == theirs.sentence_id
    warning = seen(at.warning[0].value)
    assert f"Sentence {theirs.sentence_id} is reserved for bob" in warning and "read-only" in warning
    assert at.button(key="review_accept").disabled and at.button(key="review_reject").disabled
    at.run()  # a rerun keeps it shown (not replaced by an item of ana's own)
    assert shown(at).sentence_id == theirs.sentence_id and (theirs.sentence_id, "bob") in leases(store)

    review.release_lease(store, theirs.sentence_id, "bob")
    click(at, "review_reload")
    assert not at.warning and not at.button(key="review_accept").disabled
    assert leases(store) == {(theirs.sentence_id, "ana")}
    click(at, "review_accept")
    assert review.get_item(store, theirs.sentence_id).state.status == ReviewStatus.ACCEPTED


# --- token search ----------------------------------------------------------------------------------------------


def test_search_tokens_lists_hits_and_a_click_opens_one(demo) -> None:
    store, _ = demo
    at = open_navigation(open_page("ana"))
    query = "MADRID"  # a place name in the demo, typed in another case
    hits = review.search_tokens(store, CORPUS, query)
    assert hits and all(query.lower() in hit.tokens[hit.token_idx].lower() for hit in hits)
    at.text_input(key="review_search").input(query).run()
    assert not at.exception, at.exception

    listed = [button.label for button in at.button if button.key and button.key.startswith("review_hit_")]
    assert listed == [f"Sentence {hit.sentence_id}" for hit in hits]
    shown_html = "\n".join(html_bodies(at))
    for hit in hits:  # each hit's token underlined in its context
        assert f"<u>{html_text(hit.tokens[hit.token_idx])}</u>" in shown_html

    at.segmented_control(key="review_search_sides").set_value(["source"]).run()
    sources = review.search_tokens(store, CORPUS, query, sides=("source",))
    listed = [button.label for button in at.button if button.key and button.key.startswith("review_hit_")]
    assert listed == [f"Sentence {hit.sentence_id}" for hit in sources]

    wanted = sources[-1].sentence_id
    click(at, f"review_hit_{len(sources) - 1}")
    assert shown(at).sentence_id == wanted

    at.text_input(key="review_search").input("zzqx").run()
    assert "No token contains it." in rendered(at)


# --- queue choices kept per reviewer ---------------------------------------------------------------------------


def test_queue_choices_are_restored_in_the_next_session_per_reviewer(demo) -> None:
    store, _ = demo
    at = open_page("ana")
    at.radio(key="review_order").set_value("most disagreement first").run()
    at.multiselect(key="review_labels").set_value(["PER"]).run()
    at.slider(key="review_confidence").set_value((0.2, 0.9)).run()
    assert not at.exception
    saved = review.queue_preferences(store, CORPUS, "ana")
    assert saved == review.QueuePreferences("disagreement", "unreviewed", ("PER",), (0.2, 0.9))

    again = open_page("ana")  # a new session
    assert again.radio(key="review_order").value == "most disagreement first"
    assert again.multiselect(key="review_labels").value == ["PER"]
    assert again.slider(key="review_confidence").value == (0.2, 0.9)
    item = shown(again)
    assert "PER" in {span.label for span in item.state.spans}
    assert item.state.confidence is not None and 0.2 <= item.state.confidence <= 0.9

    other = open_page("bob")
    assert other.radio(key="review_order").value == "lowest confidence first"
    assert other.multiselect(key="review_labels").value == []
    assert review.queue_preferences(store, CORPUS, "bob") is None  # defaults are not written


# --- display fixes ---------------------------------------------------------------------------------------------


def import_small_copy(store: Store, folder: Path, pairs: int) -> str:
    """The demo's first ``pairs`` pairs as a second corpus, aligned by its gold links, projected and queued."""
    blocks = {
        side: (DEMO / f"{side}.conll").read_text(encoding="utf-8").strip().split("\n\n")[:pairs]
        for side in ("en", "es")
    }
    paths = {side: folder / f"small.{side}.conll" for side in blocks}
    for side, path in paths.items():
        path.write_text("\n\n".join(blocks[side]) + "\n\n", encoding="utf-8")
    align = folder / "small.align"
    lines = (DEMO / "en-es.align").read_text(encoding="utf-8").splitlines()[:pairs]
    align.write_text("\n".join(lines) + "\n", encoding="utf-8")
    name = "small-en-es"
    import_parallel(
        store, paths["en"], paths["es"], corpus=name, src=SideOptions("en", "conll"), tgt=SideOptions("es", "conll")
    )
    run = import_alignments(store, align, corpus=name, aligner="gold", created_by="test").run_id
    review.queue_projection(store, name, project_corpus(store, name, method="heuristic", alignment_run=run).run_id)
    return name


def test_items_left_follow_the_corpus_switched_to(demo, tmp_path: Path) -> None:
    store, _ = demo
    small = import_small_copy(store, tmp_path, 37)
    at = open_page("ana")
    corpora = at.selectbox(key="review_corpus")
    counts = {name: review.queue_overview(store, name).queued for name in (CORPUS, small)}
    assert counts[CORPUS] != counts[small] and counts[small] <= 37
    assert queue_left(at) == counts[corpora.value]
    for name in (small, CORPUS, small):
        at.selectbox(key="review_corpus").set_value(name).run()
        assert not at.exception
        assert shown(at).corpus == name
        assert queue_left(at) == counts[name]
    at.multiselect(key="review_labels").set_value(["LOC"]).run()  # a filtered queue counts its own items
    item = shown(at)
    assert queue_left(at) == item.remaining and item.corpus == small
    at.selectbox(key="review_corpus").set_value(CORPUS).run()
    assert shown(at).corpus == CORPUS and queue_left(at) == shown(at).remaining


def test_a_reject_shows_no_entities_in_the_history(demo) -> None:
    store, _ = demo
    at = open_page("ana")
    item = shown(at)
    assert item.state.spans  # the suggestion has entities
    click(at, "review_reject")
    at.selectbox(key="review_status").set_value(ReviewStatus.REJECTED.value).run()
    assert shown(at).sentence_id == item.sentence_id
    history = table(at, "entities").to_dict("records")
    assert [(row["action"], row["entities"]) for row in history] == [("reject", 0)]
    event = review.history(store, item.sentence_id)[-1]
    assert event.spans_after == item.state.spans and event.entities == ()  # kept for the record, not shown


def test_the_agreement_page_shows_a_reject_without_entities(demo) -> None:
    store, _ = demo
    item = review.next_item(store, CORPUS)
    assert item is not None and item.state.spans
    review.record_decision(
        store, item.sentence_id, reviewer="ana", action="accept", expected_version=item.state.version
    )
    later = review.get_item(store, item.sentence_id)
    review.record_decision(
        store, item.sentence_id, reviewer="bob", action="reject", expected_version=later.state.version
    )
    at = load("3_Agreement").run()
    assert not at.exception
    assert at.selectbox(key="agree_item").value == item.sentence_id
    votes = {name: next(seen(h) for h in html_bodies(at) if f"<div><b>{name}:" in seen(h)) for name in ("ana", "bob")}
    assert "<b>bob: rejected" in votes["bob"] and "xner-ent" not in votes["bob"]
    assert "<b>ana: accepted" in votes["ana"] and "xner-ent" in votes["ana"]


def test_the_spot_check_page_counts_judgments_everywhere_it_shows_them(demo) -> None:
    store, runs = demo
    at = load("2_Spot_check").run()
    at.sidebar.text_input(key="xner_reviewer").input("ana").run()
    at.selectbox(key="spot_run").set_value(runs["heuristic"]).run()
    at.number_input(key="spot_n").set_value(20)
    at.button(key="spot_draw").click().run()
    assert not at.exception
    [check] = spotcheck.list_checks(store, CORPUS, run_id=runs["heuristic"])
    for verdict in (True, False, True, True, False, True, True):
        at.button(key="spot_correct" if verdict else "spot_wrong").click().run()
        assert not at.exception
    chooser = at.selectbox(key="spot_check").options
    assert chooser[0].startswith(f"#{check.id}: 7/{check.drawn} judged")
    texts = [*bodies(at), at.get("progress")[0].proto.text, *chooser]
    assert f"7 / {check.drawn} judged" in texts
    stale = [text for text in texts if re.search(r"\b0 ?/ ?\d+ judged", seen(text))]
    assert not stale, stale


# --- long sentences: the matrix in windows ---------------------------------------------------------------------


@pytest.mark.slow
def test_a_long_pair_shows_its_matrix_in_windows(tmp_path, monkeypatch) -> None:
    """The longest pair of the real Europarl EN-DE gold, aligned by eflomal: the page shows a window around an
    entity (at most 20 × 20 cells) and offers the whole matrix to scroll."""
    store, sentence_id, n_src, n_tgt = long_pair_store(tmp_path)
    monkeypatch.setenv("XNER_DB", str(store.engine.url))
    try:
        at = open_navigation(open_page("ana"))
        at.selectbox(key="review_corpus").set_value("ep").run()
        go_to(at, str(sentence_id))
        item = shown(at)
        assert (len(item.src_tokens), len(item.tgt_tokens)) == (n_src, n_tgt)
        window = at.selectbox(key=f"review_window_{sentence_id}")
        assert window.options[-1].startswith(f"the whole matrix ({n_src} × {n_tgt} tokens")
        matrix = next(text for text in html_bodies(at) if 'class="xner-mx"' in text)
        assert 0 < matrix.count("<td") <= 20 * 20
        window.set_value(window.options[-1]).run()
        matrix = next(text for text in html_bodies(at) if 'class="xner-mx"' in text)
        assert matrix.count("<td") == n_src * n_tgt
    finally:
        store.dispose()
