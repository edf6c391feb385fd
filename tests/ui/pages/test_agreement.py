"""The agreement page, driven headlessly with AppTest on a temporary database: kappa and span F1 against
xner.stats on decisions recorded through the review service, the disagreement list, adjudication (a reviewer's
version, by hand, a conflict), real Europarl data, OIDC identity, and escaping of tokens, labels and names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import html_bodies, load, metrics, seen, table
from tests.apptest import open_page as open_script
from tests.conftest import import_europarl, write
from xner.formats.parallel import SideOptions
from xner.services import review
from xner.services.aligning import align_corpus
from xner.services.demo import load_demo
from xner.services.importing import import_alignments, import_parallel
from xner.services.projecting import project_corpus
from xner.stats import cohen_kappa
from xner.store.db import Store, open_store
from xner.types import ReviewStatus, Span
from xner.ui.render import html_text

PAGE = "3_Agreement"
DEMO = "demo-en-es"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-secret-test-secret-test-secret",
    "client_id": "xner",
    "client_secret": "secret",
    "server_metadata_url": "https://login.example.org/.well-known/openid-configuration",
}
ACTED = {"accept": "accepted", "reject": "rejected", "correct": "corrected"}
# (ana, bob) per item: agreeing on some, not on others
PLAN = [
    ("accept", "accept"),
    ("accept", "reject"),
    ("reject", "reject"),
    ("correct", "accept"),
    ("accept", "correct"),
    ("reject", "accept"),
    ("accept", "accept"),
    ("correct", "correct"),
    ("accept", "accept"),
    ("reject", "correct"),
]


@pytest.fixture
def app_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The page's database ($XNER_DB) with the demo loaded and a projection run of the test's own queued."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("XNER_DB", url)
    store = open_store(url)
    load_demo(store)
    run = project_corpus(store, DEMO, method="heuristic").run_id
    review.queue_projection(store, DEMO, run)
    yield store
    store.dispose()


def decide(store: Store, sentence_id: int, reviewer: str, action: str) -> review.StateView:
    """``reviewer``'s decision at the item's current version; a correction drops the last suggested span."""
    item = review.get_item(store, sentence_id)
    spans = list(item.suggestion.spans if item.suggestion else ())[:-1] if action == "correct" else None
    return review.record_decision(
        store,
        sentence_id,
        reviewer=reviewer,
        action=action,
        expected_version=item.state.version,
        spans=[p.span for p in spans] if spans is not None else None,
    )


def unreviewed(store: Store, n: int, corpus: str = DEMO) -> list[int]:
    items: list[int] = []
    while len(items) < n and (item := review.next_item(store, corpus, skip=items)) is not None:
        items.append(item.sentence_id)
    return items


def record_plan(store: Store, corpus: str = DEMO, names: tuple[str, str] = ("ana", "bob")) -> list[int]:
    sentences = unreviewed(store, len(PLAN), corpus)
    for sentence_id, actions in zip(sentences, PLAN, strict=True):
        for name, action in zip(names, actions, strict=True):
            decide(store, sentence_id, name, action)
    return sentences


def open_page(adjudicator: str = "carol") -> AppTest:
    return open_script(PAGE, reviewer=adjudicator)


def last_event(store: Store, sentence_id: int) -> review.EventView:
    return review.history(store, sentence_id)[-1]


def test_kappa_span_f1_and_counts_match_the_statistics(app_store: Store) -> None:
    record_plan(app_store)
    at = open_page()
    expected = cohen_kappa([(ACTED[a], ACTED[b]) for a, b in PLAN])
    report = review.agreement(app_store, DEMO)
    assert report.kappa == pytest.approx(expected)
    shown = metrics(at)
    assert shown["Cohen's κ (status)"] == f"{expected:.3f}"
    assert shown["Items with ≥ 2 reviewers"] == str(len(PLAN))
    assert shown["Reviewers"] == "2"
    assert shown["Observed agreement"] == f"{sum(a == b for a, b in PLAN) / len(PLAN):.1%}"
    assert shown["Span F1 between reviewers"] == f"{report.span_f1:.3f}"
    [pair] = table(at, "kappa").to_dict("records")
    assert (pair["reviewer A"], pair["reviewer B"], pair["items"]) == ("ana", "bob", len(PLAN))
    assert pair["kappa"] == pytest.approx(expected)
    assert not at.get("plotly_chart")  # no heatmap for two reviewers

    disputes = review.disagreements(app_store, DEMO)
    listed = table(at, "adjudicated")
    assert list(listed["sentence"]) == [d.sentence_id for d in disputes]
    differing = [i for i, (a, b) in enumerate(PLAN) if a != b]
    assert len(disputes) >= len(differing)
    row = listed.set_index("sentence").loc[disputes[0].sentence_id]
    assert {row["ana"], row["bob"]} == {v.status_after.value for v in disputes[0].votes}


def test_adjudicate_with_a_reviewers_version(app_store: Store) -> None:
    record_plan(app_store)
    dispute = review.disagreements(app_store, DEMO)[0]
    bob = next(v for v in dispute.votes if v.reviewer == "bob")
    at = open_page()
    assert at.selectbox(key="agree_item").value == dispute.sentence_id
    votes = "\n".join(seen(h) for h in html_bodies(at) if "<div><b>ana:" in seen(h) or "<div><b>bob:" in seen(h))
    assert f"<b>bob: {bob.status_after.value}" in votes  # both decisions side by side
    at.radio(key="agree_choice").set_value("bob")
    at.text_input(key=f"agree_note_{dispute.sentence_id}").input("bob is right")
    at.button(key="agree_submit").click().run()
    assert not at.exception

    event = last_event(app_store, dispute.sentence_id)
    assert (event.action, event.reviewer, event.note) == ("adjudicate", "carol", "bob is right")
    assert (event.status_after, event.spans_after) == (bob.status_after, bob.spans_after)
    assert seen(at.success[0].value).startswith(f"Sentence {dispute.sentence_id} adjudicated: {bob.status_after.value}")
    assert dispute.sentence_id not in review_ids(review.disagreements(app_store, DEMO))
    assert at.selectbox(key="agree_item").value != dispute.sentence_id  # the list moved on
    at.toggle(key="agree_include").set_value(True).run()
    assert dispute.sentence_id in list(table(at, "adjudicated")["sentence"])


def review_ids(disputes: list[review.Disagreement]) -> list[int]:
    return [d.sentence_id for d in disputes]


def test_adjudicate_by_hand_and_bad_spans_are_refused(app_store: Store) -> None:
    record_plan(app_store)
    dispute = review.disagreements(app_store, DEMO)[0]
    item = review.get_item(app_store, dispute.sentence_id)
    at = open_page()
    at.radio(key="agree_choice").set_value("").run()
    assert at.data_editor(key=f"agree_spans_{dispute.sentence_id}").value.to_dict("records") == [
        {"start": s.start, "end": s.end, "label": s.label} for s in item.state.spans
    ]
    n = len(item.tgt_tokens)
    at.session_state[f"agree_spans_{dispute.sentence_id}"] = {
        "edited_rows": {},
        "added_rows": [{"start": 0, "end": n + 3, "label": "PER"}],
        "deleted_rows": list(range(len(item.state.spans))),
    }
    at.button(key="agree_submit").click().run()
    error = seen(at.error[0].value)
    assert f"beyond the sentence's {n} tokens" in error and error.startswith("Not saved")
    assert last_event(app_store, dispute.sentence_id).action != "adjudicate"

    at.session_state[f"agree_spans_{dispute.sentence_id}"] = {
        "edited_rows": {},
        "added_rows": [{"start": 0, "end": 1, "label": "PER"}],
        "deleted_rows": list(range(len(item.state.spans))),
    }
    at.selectbox(key="agree_status").set_value("corrected")
    at.button(key="agree_submit").click().run()
    assert not at.exception and not at.error
    event = last_event(app_store, dispute.sentence_id)
    assert (event.action, event.reviewer, event.status_after) == ("adjudicate", "carol", ReviewStatus.CORRECTED)
    assert event.spans_after == (Span(0, 1, "PER"),)


def test_a_conflict_shows_the_other_decision_and_saves_nothing(app_store: Store) -> None:
    record_plan(app_store)
    dispute = review.disagreements(app_store, DEMO)[0]
    at = open_page()
    at.radio(key="agree_choice").set_value("ana").run()
    # bob changes his mind after the adjudicator loaded the item, still disagreeing with ana
    taken = {vote.status_after.value for vote in dispute.votes}
    action = next(a for a, status in ACTED.items() if status not in taken)
    changed = decide(app_store, dispute.sentence_id, "bob", action)
    before = review.history(app_store, dispute.sentence_id)
    at.button(key="agree_submit").click().run()
    assert not at.exception
    assert review.history(app_store, dispute.sentence_id) == before  # nothing saved
    error = seen(at.error[0].value)
    assert "was changed by 'bob'" in error and f"now version {changed.version}" in error
    vote = last_event(app_store, dispute.sentence_id)  # bob's new vote, beside the state (never over it)
    assert (vote.reviewer, vote.applied) == ("bob", False)
    assert any(f"<div><b>Saved first by bob: {vote.status_after.value}" in seen(h) for h in html_bodies(at))

    at.button(key="agree_submit").click().run()  # the adjudicator saw the new state: the second click saves
    event = last_event(app_store, dispute.sentence_id)
    assert (event.action, event.reviewer, event.version) == ("adjudicate", "carol", changed.version + 1)


def test_an_item_adjudicated_meanwhile_is_not_replaced_by_the_next_one(app_store: Store) -> None:
    record_plan(app_store)
    first, second = review.disagreements(app_store, DEMO)[:2]
    at = open_page()
    assert at.selectbox(key="agree_item").value == first.sentence_id
    version = review.get_item(app_store, first.sentence_id).state.version
    review.adjudicate(app_store, first.sentence_id, reviewer="erin", status="rejected", expected_version=version)
    at.button(key="agree_submit").click().run()  # the list no longer holds the item shown: nothing is saved
    assert "changed before your click" in at.warning[0].value
    assert at.selectbox(key="agree_item").value == second.sentence_id
    assert all(event.reviewer != "carol" for event in review.history(app_store, second.sentence_id))
    assert last_event(app_store, first.sentence_id).reviewer == "erin"


def test_adjudicating_an_item_without_entities_by_hand(app_store: Store) -> None:
    sentence_id = unreviewed(app_store, 1)[0]
    version = review.get_item(app_store, sentence_id).state.version
    review.record_decision(app_store, sentence_id, reviewer="ana", action="correct", spans=[], expected_version=version)
    decide(app_store, sentence_id, "bob", "accept")  # a vote beside ana's decision
    editor = f"agree_spans_{sentence_id}"
    at = open_page()
    at.radio(key="agree_choice").set_value("").run()
    assert at.data_editor(key=editor).value.empty  # ana's correction is the current state: no spans
    at.session_state[editor] = {"edited_rows": {}, "added_rows": [{"label": "LOC"}], "deleted_rows": []}
    at.button(key="agree_submit").click().run()
    assert "a span needs integer start and end" in at.error[0].value
    at.session_state[editor] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}
    at.selectbox(key="agree_status").set_value("rejected")
    at.button(key="agree_submit").click().run()
    event = last_event(app_store, sentence_id)
    assert (event.action, event.status_after, event.spans_after) == ("adjudicate", ReviewStatus.REJECTED, ())


def test_three_reviewers_get_a_kappa_heatmap_and_guards(app_store: Store) -> None:
    at = open_page()
    assert "No sentence has decisions from two reviewers yet" in at.info[0].value
    sentences = record_plan(app_store)
    for sentence_id, (action, _) in zip(sentences, PLAN, strict=True):
        decide(app_store, sentence_id, "dave", "reject" if action == "accept" else "accept")
    at = open_page(adjudicator="")
    report = review.agreement(app_store, DEMO)
    assert report.reviewers == ("ana", "bob", "dave")
    heatmap = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert heatmap["x"] == ["ana", "bob", "dave"]
    pairs = {(p.first, p.second): p.kappa for p in report.pairs}
    assert heatmap["z"][0][2] == pytest.approx(round(pairs[("ana", "dave")], 3))
    assert heatmap["z"][0][0] is None
    assert at.button(key="agree_submit").disabled  # nobody named: no adjudication
    assert any("enter your name in the sidebar" in i.value for i in at.info)


def test_oidc_login_replaces_the_typed_name(app_store: Store) -> None:
    record_plan(app_store)
    at = load(PAGE)
    at.secrets["auth"] = AUTH
    at.user = {}
    at.run()
    assert not at.exception
    assert at.sidebar.button(key="xner_login") and not at.sidebar.text_input
    assert at.button(key="agree_submit").disabled

    at.user = {"is_logged_in": True, "email": "carol@example.org", "name": "Carol"}
    at.run()
    assert at.sidebar.button(key="xner_logout") and "carol@example.org" in seen(at.sidebar.caption[0].value)
    at.radio(key="agree_choice").set_value("ana")
    at.button(key="agree_submit").click().run()
    dispute = review.disagreements(app_store, DEMO, include_adjudicated=True)[0]
    assert last_event(app_store, dispute.sentence_id).reviewer == "carol@example.org"


def test_escaping_of_tokens_labels_and_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'xss.db'}"
    monkeypatch.setenv("XNER_DB", url)
    store = open_store(url)
    img_label = IMG.replace(" ", "/")  # labels are single words
    img_tokens = IMG.split()
    src = write(tmp_path / "en.conll", f"{SCRIPT} B-{SCRIPT}\nmet O\nBo B-{img_label}\n\n" * 3)
    tgt_sentence = f"{SCRIPT} B-{SCRIPT}\n" + "".join(f"{t} O\n" for t in img_tokens) + f"Bo B-{img_label}\n\n"
    tgt = write(tmp_path / "xx.conll", tgt_sentence * 3)
    import_parallel(store, src, tgt, corpus=IMG, src=SideOptions("en"), tgt=SideOptions("xx"), split="train")
    write(tmp_path / "a.align", "0-0 1-1 2-4\n" * 3)
    import_alignments(store, tmp_path / "a.align", corpus=IMG, aligner="gold")
    review.queue_projection(store, IMG, project_corpus(store, IMG, method="heuristic").run_id)
    names = (f"ana{SCRIPT}", f"bob{IMG}", IMG)
    for sentence_id in unreviewed(store, 3, IMG):
        decide(store, sentence_id, names[0], "accept")
        decide(store, sentence_id, names[1], "correct")
        decide(store, sentence_id, names[2], "reject")

    at = open_page(adjudicator=SCRIPT)
    rendered = "\n".join(html_bodies(at))
    for payload in (SCRIPT, IMG, img_label, *(t for t in img_tokens if "<" in t or ">" in t)):
        assert payload not in rendered
    assert f"{html_text(SCRIPT)}<sub>{html_text(SCRIPT)}</sub>" in rendered
    assert "&#34;&#62;&#60;img" in rendered and html_text(f"bob{IMG}:") in rendered
    heatmap = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert heatmap["x"] == [
        '"&gt;&lt;img src=x onerror=alert(1)&gt;',  # Plotly decodes &lt; but would show &quot; as it is
        "ana&lt;script&gt;alert(1)&lt;/script&gt;",
        'bob"&gt;&lt;img src=x onerror=alert(1)&gt;',
    ]
    assert at.sidebar.selectbox(key="agree_corpus").value == IMG
    at.radio(key="agree_choice").set_value(names[1])
    at.button(key="agree_submit").click().run()
    assert not at.exception
    ruled = review.disagreements(store, IMG, include_adjudicated=True)[0]
    assert ruled.adjudication is not None and ruled.adjudication.reviewer == SCRIPT
    store.dispose()


@pytest.mark.slow
def test_agreement_on_europarl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real EN-DE Europarl: ana accepts the projection, bob corrects it to the German gold where they differ."""
    url = f"sqlite:///{tmp_path / 'ep.db'}"
    monkeypatch.setenv("XNER_DB", url)
    store = open_store(url)
    import_europarl(store)
    links = align_corpus(store, "ep", options={"symmetrization": "intersection"}).run_id
    review.queue_projection(store, "ep", project_corpus(store, "ep", method="ngram", alignment_run=links).run_id)
    statuses = {"accept": "accepted", "correct": "corrected"}
    pairs = []
    for i, sentence_id in enumerate(unreviewed(store, 60, "ep")):  # the least confident first
        item = review.get_item(store, sentence_id)
        careful = "accept" if set(item.state.spans) == set(item.tgt_gold) else "correct"
        hasty = "accept" if i % 2 else careful  # ana accepts every other item unseen
        for version, (name, action) in enumerate([("ana", hasty), ("bob", careful)]):
            spans = item.tgt_gold if action == "correct" else None
            review.record_decision(
                store, sentence_id, reviewer=name, action=action, expected_version=version, spans=spans
            )
        pairs.append((statuses[hasty], statuses[careful]))
    at = open_page()
    assert metrics(at)["Cohen's κ (status)"] == f"{cohen_kappa(pairs):.3f}"
    differing = sum(a != b for a, b in pairs)
    assert 0 < differing < 30 and len(table(at, "adjudicated")) == differing
    at.radio(key="agree_choice").set_value("bob")
    at.button(key="agree_submit").click().run()
    assert not at.exception and len(review.disagreements(store, "ep")) == differing - 1
    store.dispose()
