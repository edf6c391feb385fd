"""A two-span fix on the review page in a real browser: the token editor on the sentence against the menus.

What: on the demo corpus (the app loads it into a fresh SQLite database), a reviewer fixes a projection boundary:
the wrong entity (e.g. LOC on "La" alone) is replaced by the right one (LOC on "La Haya"), the fix a linguist
makes all day: one span deleted, one added. Two ways, on successive items of the queue, taken in turn:

- ``editor``: click the entity's first token, shift-click the fix's last token, press the label's key, Ctrl+Enter;
- ``menus`` (the page's only way before the token editor, now its fallback): delete the wrong entity (✕), pick the
  first token, the last token and the label in three select boxes (open, choose: two each; none when the box
  already shows it), Add, Ctrl+Enter.

Per fix: the interactions (clicks and key presses), the seconds from the first interaction to the saved
correction (the page's "correct recorded" message; the stored state is then checked), and keypress-to-saved (from
the Ctrl+Enter to that message). Playwright waits only for the script run an interaction causes, without think
time: this is the machine's share of a fix, on a quiet machine (the 1-minute load average is recorded).

Targets: ``editor`` <= 4 interactions and <= 3 s a fix (the menus took 10 and about 12 s).

Usage::

    .venv/bin/python benchmarks/review_edit.py              # 5 fixes each way
    .venv/bin/python benchmarks/review_edit.py --rounds 10 --out /tmp/review_edit.json

Writes benchmarks/results/review_edit.json and prints a markdown table. Needs Debian's chromium.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import RESULTS, command_line, machine, write_results

from tests.browser.harness import App, review_page
from xner.services import review
from xner.store.db import Store
from xner.types import ReviewStatus, Span
from xner.ui import review as view

REVIEWER = "bench"
WAYS = ("editor", "menus")


class Counted:
    """The app with every interaction counted and timed from the first one."""

    def __init__(self, app: App) -> None:
        self.app, self.count, self.started = app, 0, 0.0

    def do(self, action: Callable[[], object], *, reruns: bool = True) -> None:
        if self.count == 0:
            self.started = time.perf_counter()
        self.count += 1
        if reruns:
            self.app.act(action)
        else:
            action()

    def choose(self, key: str, option: str) -> None:
        box = self.app.widget(key).get_by_role("combobox")
        if box.input_value() == option:
            return
        box.evaluate("box => box.scrollIntoView({block: 'center'})")  # room for the list below it
        self.do(box.click, reruns=False)
        self.do(self.app.page.get_by_role("option", name=option, exact=True).click)
        self.app.page.evaluate("document.activeElement && document.activeElement.blur()")


def next_fix(app: App, store: Store) -> tuple[review.ReviewItem, Span, Span]:
    """Skip (S) to an item with a span that can grow by a token: the item, the span and its fix."""
    for _ in range(30):
        item = review.get_item(store, app.sentence())
        taken = {i for span in item.state.spans for i in range(span.start, span.end)}
        for wrong in item.state.spans:
            if wrong.end < len(item.tgt_tokens) and wrong.end not in taken:
                return item, wrong, Span(wrong.start, wrong.end + 1, wrong.label)
        app.press("s")
    raise RuntimeError("no item with a span to fix among the next 30")


def fix_with_editor(counted: Counted, item: review.ReviewItem, wrong: Span, fixed: Span) -> None:
    page = counted.app.page
    key = next(key for key, label in view.label_keys(item.labels).items() if label == fixed.label)
    counted.do(page.locator(f'.xner-te-tok[data-i="{wrong.start}"]').click, reruns=False)
    counted.do(lambda: page.locator(f'.xner-te-tok[data-i="{fixed.end - 1}"]').click(modifiers=["Shift"]), reruns=False)
    counted.do(lambda: page.keyboard.press(key))


def fix_with_menus(counted: Counted, item: review.ReviewItem, wrong: Span, fixed: Span) -> None:
    app, sid, tokens = counted.app, item.sentence_id, item.tgt_tokens
    if not app.widget(f"review_first_{sid}").is_visible():
        app.act(app.page.get_by_text("Edit with menus", exact=False).click)  # not counted: opening reruns the page
    counted.do(app.button(f"review_delete_{sid}_{wrong.start}_{wrong.end}").click)
    counted.choose(f"review_first_{sid}", f"{fixed.start}: {tokens[fixed.start]}")
    counted.choose(f"review_last_{sid}", f"{fixed.end - 1}: {tokens[fixed.end - 1]}")
    counted.choose(f"review_label_{sid}", fixed.label)
    counted.do(app.button("review_add").click)


def one_fix(app: App, store: Store, way: str) -> dict:
    item, wrong, fixed = next_fix(app, store)
    sid = item.sentence_id
    counted = Counted(app)
    (fix_with_editor if way == "editor" else fix_with_menus)(counted, item, wrong, fixed)
    pressed = time.perf_counter()
    counted.do(lambda: app.page.keyboard.press("Control+Enter"))
    app.alert("success", f"Sentence {sid}: correct recorded")
    saved = time.perf_counter()
    state = review.get_item(store, sid).state
    expected = tuple(sorted({*item.state.spans, fixed} - {wrong}))
    if (state.status, state.spans) != (ReviewStatus.CORRECTED, expected):
        raise RuntimeError(f"sentence {sid}: saved {state.status} {state.spans}, expected corrected {expected}")
    return {
        "way": way,
        "sentence_id": sid,
        "interactions": counted.count,
        "seconds": round(saved - counted.started, 3),
        "keypress_to_saved_s": round(saved - pressed, 3),
    }


def run(rounds: int) -> list[dict]:
    if shutil.which("chromium") is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium chromium-driver")
    with (
        tempfile.TemporaryDirectory(prefix="review_edit_") as folder,
        review_page(Path(folder), REVIEWER) as (app, store),
    ):
        fixes = []
        for n in range(2 * rounds):
            fixes.append(one_fix(app, store, WAYS[n % 2]))
            print(fixes[-1], flush=True)
        return fixes


def summarise(fixes: list[dict]) -> dict:
    summary = {}
    for way in WAYS:
        mine = [fix for fix in fixes if fix["way"] == way]
        summary[way] = {
            "fixes": len(mine),
            "interactions_max": max(fix["interactions"] for fix in mine),
            "seconds_median": round(statistics.median(fix["seconds"] for fix in mine), 3),
            "seconds_max": max(fix["seconds"] for fix in mine),
            "keypress_to_saved_median_s": round(statistics.median(fix["keypress_to_saved_s"] for fix in mine), 3),
        }
    editor = summary["editor"]
    summary["targets"] = {
        "editor_interactions_le_4": editor["interactions_max"] <= 4,
        "editor_seconds_le_3": editor["seconds_max"] <= 3.0,
    }
    return summary


def markdown(summary: dict) -> str:
    rows = [
        "| way | fixes | interactions (max) | first interaction → saved, median (max) | Ctrl+Enter → saved, median |",
        "|---|---|---|---|---|",
    ]
    for way in WAYS:
        s = summary[way]
        rows.append(
            f"| {way} | {s['fixes']} | {s['interactions_max']} | {s['seconds_median']:.2f} s "
            f"({s['seconds_max']:.2f} s) | {s['keypress_to_saved_median_s']:.2f} s |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="fixes each way (default 5)")
    parser.add_argument("--out", type=Path, default=RESULTS / "review_edit.json")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    fixes = run(args.rounds)
    summary = summarise(fixes)
    write_results(
        args.out,
        {
            "benchmark": "review_edit",
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": command_line(),
            "machine": machine(),
            "load_1min": {"before": load_before, "after": os.getloadavg()[0]},
            "summary": summary,
            "fixes": fixes,
        },
    )
    print(markdown(summary))
    print(f"targets: {summary['targets']}")


if __name__ == "__main__":
    main()
