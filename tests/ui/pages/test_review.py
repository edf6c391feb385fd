"""The review page (pages/1_Review.py), driven headlessly with AppTest on temporary SQLite databases.

The demo gets its own projection runs here (heuristic and ngram over a deterministic noisy copy of its gold links,
so the methods disagree on some sentences), queued explicitly: the tests do not depend on what ``load_demo`` itself
projects or queues, and count relative to what is there.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from tests.apptest import click, table
from tests.conftest import DEMO, import_europarl, snapshot
from tests.ui.pages import review_harness
from tests.ui.pages.review_harness import CORPUS, bodies, open_page, queue_left, reader, rendered, shown
from xner.formats.parallel import SideOptions
from xner.services import review
from xner.services.aligning import align_corpus
from xner.services.demo import load_demo
from xner.services.importing import import_alignments, import_parallel
from xner.services.projecting import project_corpus
from xner.store.db import Store, open_store
from xner.store.models import Corpus, ReviewEvent, ReviewState, Sentence
from xner.types import ReviewStatus, Span
from xner.ui import review as view
from xner.ui.render import html_text

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'

demo_file, demo = review_harness.demo_file, review_harness.demo  # the queued demo project (fixtures)


def open_alignment_fix(at: AppTest) -> None:
    """Open the "Fix the alignment" expander, as a click on it does (its content is drawn only while open)."""
    at.session_state["review_fix_open"] = True
    at.run()
    assert not at.exception, at.exception


def open_menus(at: AppTest) -> None:
    """Open the "Edit with menus" expander, as a click on it does (its content is drawn only while open)."""
    at.session_state["review_menus"] = True
    at.run()
    assert not at.exception, at.exception


def state_of(store: Store, sentence_id: int) -> ReviewState:
    with store.session() as session:
        found = session.get(ReviewState, sentence_id)
        assert found is not None
        return found


def events_of(store: Store, sentence_id: int) -> list[tuple[str, str, str]]:
    with store.session() as session:
        rows = session.scalars(
            select(ReviewEvent).where(ReviewEvent.sentence_id == sentence_id).order_by(ReviewEvent.id)
        )
        return [(e.reviewer, e.action, e.status_after) for e in rows]


def decisions_snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every table but the leases (who has which item open)."""
    return {name: rows for name, rows in snapshot(store).items() if name != "review_lease"}


def matrix_spec(at: AppTest, key: str = "review_matrix") -> dict:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if key in chart.proto.id or not key:
            return spec
    raise AssertionError(f"no plotly chart {key!r}")


def matrix_table(at: AppTest) -> str:
    """The alignment matrix the page shows (an HTML table)."""
    return next(text for text in bodies(at) if 'class="xner-mx"' in text)


# --- loading ---------------------------------------------------------------------------------------------------


def test_page_shows_the_least_confident_item_with_source_methods_matrix_and_progress(demo) -> None:
    store, runs = demo
    expected = review.next_item(store, CORPUS)
    assert expected is not None

    at = open_page()

    item = shown(at)
    assert item.sentence_id == expected.sentence_id and item.state.version == expected.state.version
    assert item.suggestion is not None and item.suggestion.run_id == runs["heuristic"]
    texts = rendered(at)
    assert f"Sentence {item.sentence_id}" in texts
    header = next(text for text in texts if text.startswith(CORPUS))
    assert f"confidence **{item.state.confidence:.2f}**" in header and "method **heuristic**" in header
    # the source with its entities and the target with the current spans, side by side
    assert any(f"<sub>{item.src_spans[0].label}</sub>" in text and item.src_tokens[0] in text for text in texts)
    assert any(item.tgt_tokens[-1] in text and "xner-ent" in text for text in texts)
    # every projection run of the pair is shown; the queued one is marked
    methods = [text for text in texts if text.startswith("**heuristic**") or text.startswith("**ngram**")]
    assert len(methods) == len(item.suggestions) >= 2
    assert any("queued" in text for text in methods)
    # the alignment matrix: one row per source token, one column per target token
    matrix = matrix_table(at)
    assert matrix.count("<tr>") == len(item.src_tokens) + 1  # a header row of target tokens
    assert matrix.count("<td") == len(item.src_tokens) * len(item.tgt_tokens)
    # progress, counts and the shortcut table
    overview = review.queue_overview(store, CORPUS)
    progress = at.main.get("progress")[0].proto.text
    assert progress == f"0 of {overview.total} sentences reviewed · this queue: {expected.remaining} items left"
    shortcuts = table(at, "what it does")
    assert list(shortcuts["key"]) == ["A", "X", "S", "N", "U", "Ctrl+Enter", "L"]


def test_without_a_reviewer_name_decisions_are_disabled_and_explained(demo) -> None:
    store, _ = demo
    before = snapshot(store)

    at = open_page(reviewer="")
    open_alignment_fix(at)

    for key in ("review_accept", "review_reject", "review_save", "review_undo", "review_save_links"):
        assert at.button(key=key).disabled, key
    assert not at.button(key="review_skip").disabled and not at.button(key="review_next").disabled
    assert any("Enter your name in the sidebar to record decisions" in text for text in rendered(at))
    click(at, "review_skip")  # browsing still works and writes nothing
    assert snapshot(store) == before


def test_disagreement_order_marks_what_the_methods_dispute(demo) -> None:
    store, _ = demo
    expected = review.next_item(store, CORPUS, order="disagreement")
    assert expected is not None and expected.state.disagreement > 0

    at = open_page()
    at.radio(key="review_order").set_value("most disagreement first").run()

    item = shown(at)
    assert item.sentence_id == expected.sentence_id
    texts = rendered(at)
    assert any("methods disagree" in text for text in texts)
    assert any("⚠" in text and "disputed" in text for text in texts)
    assert any("<u>" in text for text in texts)  # the disputed tokens are underlined


# --- decisions -------------------------------------------------------------------------------------------------


def test_accept_records_the_reviewer_and_loads_the_next_item(demo) -> None:
    store, _ = demo
    at = open_page()
    first = shown(at)

    click(at, "review_accept")

    state = state_of(store, first.sentence_id)
    assert (state.status, state.updated_by, state.version) == ("accepted", "ana", first.state.version + 1)
    assert [(s.start, s.end, s.label) for s in state.spans] == [tuple(vars_(s)) for s in first.state.spans]
    assert events_of(store, first.sentence_id) == [("ana", "accept", "accepted")]
    second = shown(at)
    assert second.sentence_id != first.sentence_id
    assert second.sentence_id == review.next_item(store, CORPUS).sentence_id  # type: ignore[union-attr]
    assert any(f"Sentence {first.sentence_id}: accept recorded" in text for text in rendered(at))
    assert at.button(key="review_undo").proto.help == f"Undo your decision on sentence {first.sentence_id}"


def vars_(span: Span) -> tuple[int, int, str]:
    return span.start, span.end, span.label


def test_reject_keeps_the_spans_and_skip_writes_nothing(demo) -> None:
    store, _ = demo
    at = open_page()
    first = shown(at)
    click(at, "review_reject")
    state = state_of(store, first.sentence_id)
    assert state.status == "rejected" and len(state.spans) == len(first.state.spans)
    assert events_of(store, first.sentence_id) == [("ana", "reject", "rejected")]

    second = shown(at)
    before = decisions_snapshot(store)
    click(at, "review_skip")
    assert decisions_snapshot(store) == before  # only the lease moved from the skipped item to the next one
    third = shown(at)
    assert third.sentence_id not in (first.sentence_id, second.sentence_id)
    assert at.session_state["review_skipped"] == [second.sentence_id]
    # "next" browses on in queue order without skipping anything
    click(at, "review_next")
    fourth = shown(at)
    assert fourth.sentence_id == review.next_item(store, CORPUS, after=third.sentence_id).sentence_id  # type: ignore[union-attr]
    click(at, "review_clear_skipped")
    assert at.session_state["review_skipped"] == []


def test_undo_restores_the_item_and_shows_it_again(demo) -> None:
    store, _ = demo
    at = open_page()
    first = shown(at)
    click(at, "review_accept")
    assert state_of(store, first.sentence_id).status == "accepted"

    click(at, "review_undo")

    state = state_of(store, first.sentence_id)
    assert (state.status, state.version) == ("unreviewed", first.state.version + 2)
    assert events_of(store, first.sentence_id) == [("ana", "accept", "accepted"), ("ana", "undo", "unreviewed")]
    again = shown(at)
    assert again.sentence_id == first.sentence_id and again.state.version == state.version
    assert at.button(key="review_undo").disabled  # nothing left to undo in this session
    assert table(at, "reviewer")["action"].tolist() == ["accept", "undo"]
    click(at, "review_accept")  # decide again on the restored version
    assert state_of(store, first.sentence_id).status == "accepted"


def test_correct_add_delete_and_relabel_spans(demo) -> None:
    store, _ = demo
    at = open_page()
    item = shown(at)
    spans = list(item.state.spans)
    assert len(spans) >= 2 and at.button(key="review_save").disabled  # nothing changed yet
    sid = item.sentence_id
    first, second = spans[0], spans[1]

    relabel = next(label for label in item.labels if label != first.label)
    assert f"review_first_{sid}" not in {box.key for box in at.selectbox}  # the menus are drawn once opened
    open_menus(at)
    at.selectbox(key=f"review_relabel_{sid}_{first.start}_{first.end}").set_value(relabel).run()
    click(at, f"review_delete_{sid}_{second.start}_{second.end}")
    free = next(i for i in range(len(item.tgt_tokens)) if not any(s.start <= i < s.end for s in spans))
    at.selectbox(key=f"review_first_{sid}").set_value(free).run()
    at.selectbox(key=f"review_last_{sid}").set_value(free).run()
    at.selectbox(key=f"review_label_{sid}").set_value("MISC" if "MISC" in item.labels else item.labels[0]).run()
    click(at, "review_add")
    expected = sorted(
        [
            Span(first.start, first.end, relabel),
            *spans[2:],
            Span(free, free + 1, at.selectbox(key=f"review_label_{sid}").value),
        ]
    )
    assert list(at.session_state["review_draft"]) == expected
    assert not at.button(key="review_save").disabled

    click(at, "review_save")

    state = state_of(store, sid)
    assert state.status == "corrected" and state.updated_by == "ana"
    assert state.spans == tuple(expected)
    assert events_of(store, sid) == [("ana", "correct", "corrected")]
    assert shown(at).sentence_id != sid


def send_to_editor(at: AppTest, sentence_id: int, *, draft: dict | None = None, save: dict | None = None) -> AppTest:
    """Run the page as the browser does after the token editor of ``sentence_id`` changed its ``draft`` state or
    fired its ``save`` trigger (AppTest has no widget for a custom component: its widget states are added here)."""
    from streamlit.components.v2.bidi_component.main import _make_trigger_id
    from streamlit.proto.WidgetStates_pb2 import WidgetStates

    element = next(e for e in at.get("bidi_component") if e.key == f"review_editor_{sentence_id}")
    states = WidgetStates()
    states.CopyFrom(at._tree.get_widget_states())
    if draft is not None:
        states.widgets.add(id=element.proto.id, json_value=json.dumps({"draft": draft}))
    if save is not None:
        trigger = _make_trigger_id(element.proto.id, "events")
        states.widgets.add(id=trigger, json_trigger_value=json.dumps([{"event": "save", "value": save}]))
    at._run(states)
    assert not at.exception, at.exception
    return at


def editor_data_of(at: AppTest, sentence_id: int) -> dict:
    element = next(e for e in at.get("bidi_component") if e.key == f"review_editor_{sentence_id}")
    return json.loads(element.proto.mixed.json or element.proto.json)


def boundary_fix(item: review.ReviewItem) -> tuple[Span, Span]:
    """A span of ``item`` and the same span one token longer (a typical projection boundary error)."""
    spans = item.state.spans
    taken = {i for span in spans for i in range(span.start, span.end)}
    for span in spans:
        if span.end < len(item.tgt_tokens) and span.end not in taken:
            return span, Span(span.start, span.end + 1, span.label)
    raise AssertionError(f"the demo changed: no span of sentence {item.sentence_id} can grow by a token")


def test_the_token_editor_shows_the_draft_and_its_edits_become_the_draft(demo) -> None:
    store, _ = demo
    at = open_page()
    item = shown(at)
    sid = item.sentence_id
    data = editor_data_of(at, sid)
    assert data["tokens"] == list(item.tgt_tokens)
    assert data["spans"] == [[s.start, s.end, s.label] for s in item.state.spans]
    assert {entry["key"]: entry["label"] for entry in data["labels"] if entry["key"]} == view.label_keys(item.labels)
    assert data["can_save"] and at.button(key="review_save").disabled

    wrong, fixed = boundary_fix(item)
    edited = sorted({*item.state.spans, fixed} - {wrong})
    send_to_editor(at, sid, draft={"spans": [[s.start, s.end, s.label] for s in edited], "base": data["base"]})

    assert list(at.session_state["review_draft"]) == edited
    assert editor_data_of(at, sid)["spans"] == [[s.start, s.end, s.label] for s in edited]  # drawn again
    assert not at.button(key="review_save").disabled
    assert state_of(store, sid).status == "unreviewed"  # an edit saves nothing

    click(at, "review_save")  # the button saves what the editor drafted
    state = state_of(store, sid)
    assert (state.status, state.updated_by) == ("corrected", "ana")
    assert state.spans == tuple(edited)


def test_ctrl_enter_in_the_token_editor_saves_the_spans_it_sends(demo) -> None:
    store, _ = demo
    at = open_page()
    item = shown(at)
    sid, base = item.sentence_id, editor_data_of(at, item.sentence_id)["base"]
    wrong, fixed = boundary_fix(item)
    kept = [s for s in item.state.spans if s != wrong]
    # the last edit's rerun has not come yet: the save carries the spans, the draft state is still the old one
    send_to_editor(at, sid, save={"spans": [[s.start, s.end, s.label] for s in sorted([*kept, fixed])], "base": base})

    state = state_of(store, sid)
    assert (state.status, state.updated_by) == ("corrected", "ana")
    assert state.spans == tuple(sorted([*kept, fixed]))
    assert events_of(store, sid) == [("ana", "correct", "corrected")]
    assert shown(at).sentence_id != sid
    assert any(f"Sentence {sid}: correct recorded" in text for text in rendered(at))


def test_token_editor_changes_that_are_stale_bad_or_unchanged_save_nothing(demo) -> None:
    store, _ = demo
    at = open_page()
    item = shown(at)
    sid, spans = item.sentence_id, item.state.spans
    open_menus(at)
    base = editor_data_of(at, sid)["base"]
    click(at, f"review_delete_{sid}_{spans[0].start}_{spans[0].end}")  # the menus change the draft: a new revision
    assert editor_data_of(at, sid)["base"] > base
    send_to_editor(at, sid, draft={"spans": [], "base": base})  # edited before the menus' change: ignored
    assert tuple(at.session_state["review_draft"]) == spans[1:]

    base = editor_data_of(at, sid)["base"]
    send_to_editor(at, sid, draft={"spans": [[0, len(item.tgt_tokens) + 3, spans[0].label]], "base": base})
    assert any("Correction not changed: the span [0," in text for text in rendered(at))
    assert tuple(at.session_state["review_draft"]) == spans[1:]

    send_to_editor(at, sid, save={"spans": [[0, 1, "<b>"]], "base": editor_data_of(at, sid)["base"]})
    assert any("Correction not saved: unknown label '<b>'" in text for text in rendered(at))
    assert state_of(store, sid).status == "unreviewed"  # the draft (changed by the menus) is not saved instead

    click(at, "review_reset")
    base = editor_data_of(at, sid)["base"]
    send_to_editor(at, sid, save={"spans": [[s.start, s.end, s.label] for s in spans], "base": base})
    assert any("Nothing to save: the entities are as shown" in text for text in rendered(at))
    assert state_of(store, sid).status == "unreviewed" and events_of(store, sid) == []


def test_an_overlapping_new_span_is_refused_with_the_reason(demo) -> None:
    at = open_page()
    item = shown(at)
    sid, span = item.sentence_id, item.state.spans[0]
    open_menus(at)
    at.selectbox(key=f"review_first_{sid}").set_value(span.start).run()
    at.selectbox(key=f"review_last_{sid}").set_value(span.start).run()
    click(at, "review_add")
    assert any("overlaps" in error.value for error in at.error)
    assert tuple(at.session_state["review_draft"]) == item.state.spans


def test_a_decision_after_somebody_else_decided_stands_beside_theirs(demo) -> None:
    store, _ = demo
    at = open_page()
    item = shown(at)
    theirs = review.record_decision(
        store, item.sentence_id, reviewer="bob", action="correct", spans=[], expected_version=item.state.version
    )

    click(at, "review_accept")

    state = state_of(store, item.sentence_id)  # bob's correction stays the item's state
    assert (state.status, state.spans, state.version, state.updated_by) == ("corrected", (), theirs.version + 1, "bob")
    assert events_of(store, item.sentence_id) == [("bob", "correct", "corrected"), ("ana", "accept", "accepted")]
    assert [d.sentence_id for d in review.disagreements(store, CORPUS)] == [item.sentence_id]  # to adjudication
    message = reader(at.success[0].value)
    assert f"Sentence {item.sentence_id} was already decided by bob (corrected)" in message and "vote" in message
    assert shown(at).sentence_id != item.sentence_id  # on to the next item: nothing to reload


def test_a_new_suggestion_in_between_is_a_conflict_and_the_draft_is_kept(demo) -> None:
    store, runs = demo
    at = open_page()
    item = shown(at)
    span = item.state.spans[0]
    open_menus(at)
    click(at, f"review_delete_{item.sentence_id}_{span.start}_{span.end}")
    draft = tuple(at.session_state["review_draft"])
    review.queue_projection(store, CORPUS, runs["ngram"])  # another run's suggestion replaces the one shown

    click(at, "review_save")

    assert events_of(store, item.sentence_id) == []  # nothing written
    warning = reader(at.warning[0].value)
    assert "Your correct on sentence" in warning and "not saved" in warning
    assert any("<b>Your correction (kept below, not saved):</b>" in text for text in rendered(at))
    assert at.button(key="review_accept").disabled  # decisions locked until reloaded
    click(at, "review_conflict_reload")
    assert tuple(at.session_state["review_draft"]) == draft  # the reviewer's work survives the reload
    click(at, "review_save")
    assert events_of(store, item.sentence_id)[-1] == ("ana", "correct", "corrected")


def test_undo_after_somebody_else_decided_is_refused(demo) -> None:
    store, _ = demo
    at = open_page()
    item = shown(at)
    click(at, "review_accept")
    review.record_decision(
        store, item.sentence_id, reviewer="bob", action="reject", expected_version=item.state.version + 1
    )

    click(at, "review_undo")

    assert "bob" in at.warning[0].value and "not saved" in at.warning[0].value
    state = state_of(store, item.sentence_id)  # ana's accept stands; bob's reject is a vote beside it
    assert (state.status, state.updated_by) == ("accepted", "ana")
    assert events_of(store, item.sentence_id) == [("ana", "accept", "accepted"), ("bob", "reject", "rejected")]


# --- the queue ------------------------------------------------------------------------------------------------


def test_label_confidence_status_and_reviewer_filters(demo) -> None:
    store, _ = demo
    at = open_page()
    at.multiselect(key="review_labels").set_value(["DATE"]).run()
    item = shown(at)
    assert "DATE" in {span.label for span in item.state.spans}
    assert item.sentence_id == review.next_item(store, CORPUS, labels=["DATE"]).sentence_id  # type: ignore[union-attr]

    at.multiselect(key="review_labels").set_value([]).run()
    at.slider(key="review_confidence").set_range(0.7, 0.95).run()
    item = shown(at)
    assert item.state.confidence is not None and 0.7 <= item.state.confidence <= 0.95
    click(at, "review_accept")
    decided = item.sentence_id

    at.slider(key="review_confidence").set_range(0.0, 1.0).run()
    at.selectbox(key="review_status").set_value("accepted").run()
    assert shown(at).sentence_id == decided and shown(at).state.status == ReviewStatus.ACCEPTED
    at.selectbox(key="review_status").set_value("reviewed (accepted, corrected or rejected)").run()
    at.text_input(key="review_decided_by").input("ana").run()
    assert shown(at).sentence_id == decided
    at.text_input(key="review_decided_by").input("carol").run()
    assert at.session_state["review_item"] is None
    assert any("Nothing left in this queue" in text for text in rendered(at))


def test_a_queue_of_reviewed_items_moves_on_after_each_decision(demo) -> None:
    store, _ = demo
    decided = []
    for _ in range(3):
        item = review.next_item(store, CORPUS)
        assert item is not None
        review.record_decision(
            store, item.sentence_id, reviewer="bob", action="accept", expected_version=item.state.version
        )
        decided.append(item.sentence_id)

    at = open_page()
    at.selectbox(key="review_status").set_value("accepted").run()
    seen = [shown(at).sentence_id]
    for _ in range(2):
        click(at, "review_reject")  # ana overrules bob: the item leaves the "accepted" queue
        seen.append(shown(at).sentence_id)
    assert seen == decided
    at.selectbox(key="review_status").set_value("reviewed (accepted, corrected or rejected)").run()
    first = shown(at).sentence_id
    click(at, "review_accept")  # still reviewed: the queue goes on past it instead of showing it again
    assert shown(at).sentence_id != first


def test_second_review_shows_the_suggestion_of_items_others_decided(demo) -> None:
    store, _ = demo
    first = review.next_item(store, CORPUS)
    assert first is not None and first.state.spans
    review.record_decision(
        store, first.sentence_id, reviewer="ana", action="correct", spans=[], expected_version=first.state.version
    )

    at = open_page(reviewer="bob")
    at.selectbox(key="review_status").set_value("second review: items decided by others, not me").run()

    item = shown(at)
    assert item.sentence_id == first.sentence_id and item.state.spans == ()
    suggested = tuple(sorted(p.span for p in item.suggestion.spans))  # type: ignore[union-attr]
    assert tuple(at.session_state["review_draft"]) == suggested  # bob sees the projection, not ana's correction
    assert any("Second review" in text for text in rendered(at))
    click(at, "review_accept")
    state = state_of(store, first.sentence_id)  # ana's decision stays; bob's accept is a vote beside it
    assert (state.status, state.updated_by, state.votes) == ("corrected", "ana", 2)
    vote = review.history(store, first.sentence_id)[-1]
    assert (vote.reviewer, vote.status_after, vote.spans_after, vote.applied) == ("bob", "accepted", suggested, False)
    assert [d.sentence_id for d in review.disagreements(store, CORPUS)] == [first.sentence_id]
    assert any("Nothing left in this queue" in text for text in rendered(at))  # bob decided it now


def test_second_review_needs_a_name(demo) -> None:
    at = open_page(reviewer="")
    at.selectbox(key="review_status").set_value("second review: items decided by others, not me").run()
    assert any("the second review needs your name" in text for text in rendered(at))


def test_a_corpus_with_runs_but_no_queue_offers_to_queue_one(demo, tmp_path: Path) -> None:
    store, _ = demo
    import_parallel(
        store,
        DEMO / "en.conll",
        DEMO / "es.conll",
        corpus="fresh",
        src=SideOptions("en", "conll"),
        tgt=SideOptions("es", "conll"),
        split="train",
    )
    import_alignments(store, DEMO / "en-es.align", corpus="fresh", aligner="gold")
    run = project_corpus(store, "fresh", method="heuristic").run_id

    at = open_page()
    at.selectbox(key="review_corpus").set_value("fresh").run()
    assert any("none queued for review yet" in text for text in rendered(at))
    assert at.button(key="review_queue").label == f"Queue projection run {run} for review"

    click(at, "review_queue")

    assert review.queue_overview(store, "fresh").queued_run == run
    assert shown(at).corpus == "fresh" and shown(at).suggestion.run_id == run  # type: ignore[union-attr]
    assert any("queued: 100 new items" in text for text in rendered(at))


def test_a_corpus_without_projection_explains_how_to_make_one(demo) -> None:
    store, _ = demo
    import_parallel(
        store,
        DEMO / "en.conll",
        DEMO / "es.conll",
        corpus="bare",
        src=SideOptions("en", "conll"),
        tgt=SideOptions("es", "conll"),
        split="train",
    )
    at = open_page()
    at.selectbox(key="review_corpus").set_value("bare").run()
    info = reader(" ".join(element.value for element in at.info))
    assert "has no projection run yet" in info and "xner project --corpus NAME" in info
    assert "review_accept" not in [button.key for button in at.button]


def test_fix_the_alignment_as_text(demo) -> None:
    at = open_page()
    assert "review_save_links" not in [button.key for button in at.button]  # drawn only when opened
    open_alignment_fix(at)
    item = shown(at)
    key = f"review_pharaoh_{item.sentence_id}"
    assert at.text_input(key=key).value == " ".join(f"{i}-{j}" for i, j in item.links)

    at.text_input(key=key).input("0-0 1-1").run()
    assert at.button(key="review_save_links").label == "Save the alignment (2 links)"
    click(at, "review_save_links")

    assert shown(at).manual_links == ((0, 0), (1, 1))
    assert any("manual alignment run" in text for text in rendered(at))
    at.text_input(key=key).input("0-999").run()
    assert any("beyond the sentences" in reader(element.value) for element in at.error)
    assert shown(at).manual_links == ((0, 0), (1, 1))


# --- escaping -------------------------------------------------------------------------------------------------


def test_tokens_labels_and_names_are_shown_only_escaped(demo, tmp_path: Path) -> None:
    store, _ = demo
    label = SCRIPT
    src = tmp_path / "src.conll"
    tgt = tmp_path / "tgt.conll"
    src.write_text(f"{SCRIPT} B-{label}\nsaid O\nhi O\n\n", encoding="utf-8")
    tgt.write_text(f"{SCRIPT} B-{label}\ndijo O\nhola O\n\n", encoding="utf-8")
    name = f"{SCRIPT}{IMG}"
    import_parallel(store, src, tgt, corpus=name, src=SideOptions("en", "conll"), tgt=SideOptions("es", "conll"))
    with store.transaction() as session:  # a token with spaces, as a JSONL import could bring
        corpus_id = session.scalar(select(Corpus.id).where(Corpus.name == name))
        target = update(Sentence).where(Sentence.corpus_id == corpus_id, Sentence.side == "tgt")
        session.execute(target.values(tokens=[SCRIPT, IMG, "hola"]))
    align = tmp_path / "a.align"
    align.write_text("0-0 1-1 2-2\n", encoding="utf-8")
    import_alignments(store, align, corpus=name, aligner="gold", created_by=IMG)
    project_corpus(store, name, method="heuristic", created_by=IMG)
    review.queue_projection(store, name, created_by=IMG)

    at = open_page(reviewer=IMG)
    at.selectbox(key="review_corpus").set_value(name).run()
    click(at, "review_next")  # the reviewer name and the corpus name flow into messages too

    joined = "\n".join(bodies(at))
    assert "<script" not in joined and "<img" not in joined
    assert "&#60;script&#62;alert&#40;1&#41;&#60;/script&#62;" in joined
    assert "&#34;&#62;&#60;img src&#61;x onerror&#61;alert&#40;1&#41;&#62;" in joined
    assert f"<sub>{html_text(SCRIPT)}</sub>" in joined  # the label too
    seen = "\n".join(reader(re.sub(r"<[^>]*>", "", body)) for body in bodies(at))  # the text, without the tags
    assert f"{SCRIPT}{SCRIPT} {IMG} hola" in seen and f"by {IMG}" in seen  # token + label, as typed
    matrix = matrix_table(at)
    assert "<script" not in matrix and "<img" not in matrix and "&#60;script&#62;" in matrix


# --- realistic data and speed ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_europarl_review_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real EN-DE Europarl (799 pairs) with eflomal links and two methods: the page walks the disagreement queue,
    accepts, corrects and rejects, and a rerun stays fast."""
    url = f"sqlite:///{tmp_path / 'ep.db'}"
    monkeypatch.setenv("XNER_DB", url)
    store = open_store(url)
    try:
        load_demo(store)
        import_europarl(store)
        links = align_corpus(store, "ep", options={"symmetrization": "intersection"}).run_id
        project_corpus(store, "ep", method="heuristic", alignment_run=links)
        project_corpus(store, "ep", method="ngram", alignment_run=links)
        review.queue_projection(store, "ep")

        at = open_page()
        at.selectbox(key="review_corpus").set_value("ep").run()
        at.radio(key="review_order").set_value("most disagreement first").run()
        first = shown(at)
        assert first.corpus == "ep" and first.state.disagreement > 0 and len(first.suggestions) == 2
        click(at, "review_accept")
        second = shown(at)
        assert second.state.disagreement <= first.state.disagreement
        span = second.state.spans[0] if second.state.spans else None
        if span is not None:
            open_menus(at)
            click(at, f"review_delete_{second.sentence_id}_{span.start}_{span.end}")
            click(at, "review_save")
        else:
            click(at, "review_reject")
        timings = []
        for _ in range(5):  # reruns with the item kept in the session: no item is read
            started = time.perf_counter()
            at.run()
            timings.append(time.perf_counter() - started)
        assert not at.exception
        assert min(timings) < 1.0
        overview = review.queue_overview(store, "ep")
        assert overview.reviewed == 2 and overview.total == 799
        decided = [events_of(store, item.sentence_id)[0][:2] for item in (first, second)]
        assert decided[0] == ("ana", "accept") and decided[1][0] == "ana"
    finally:
        store.dispose()


# --- several reviewers at once --------------------------------------------------------------------------------


@pytest.mark.slow  # two reviewers through many decisions (~10 s)
def test_reviewers_of_one_queue_get_different_items_and_counts_follow_each_decision(demo) -> None:
    store, _ = demo
    pages = {name: open_page(name) for name in ("ana", "bob", "cyd")}
    items = {name: shown(at).sentence_id for name, at in pages.items()}
    assert len(set(items.values())) == 3  # each item is reserved for the one reviewer it is shown to
    leases = {(lease.reviewer, lease.sentence_id) for lease in review.active_leases(store, CORPUS)}
    assert leases == set(items.items())
    left = queue_left(pages["ana"])

    click(pages["ana"], "review_accept")
    assert queue_left(pages["ana"]) == left - 1  # at once, on the page that decided
    pages["bob"].run()
    assert queue_left(pages["bob"]) == left - 1 and shown(pages["bob"]).sentence_id == items["bob"]
    assert shown(pages["ana"]).sentence_id not in items.values()  # ana's next item is nobody else's

    click(pages["cyd"], "review_skip")  # releases cyd's item ...
    assert items["cyd"] not in {lease.sentence_id for lease in review.active_leases(store, CORPUS)}
    dan = open_page("dan")
    assert shown(dan).sentence_id == items["cyd"]  # ... so the next reviewer gets it
    assert not any(at.warning for at in (*pages.values(), dan))  # no conflict anywhere


def test_queue_settings_from_the_sidebar(demo) -> None:
    store, _ = demo
    at = open_page("lead")
    at.number_input(key="review_overlap").set_value(2).run()
    at.number_input(key="review_lease_minutes").set_value(10).run()
    click(at, "review_save_settings")
    settings = review.queue_settings(store, CORPUS)
    assert (settings.overlap, settings.lease_seconds, settings.updated_by) == (2, 600, "lead")
    assert "2 reviewer(s) per item" in reader(at.success[0].value)
