"""``xner delete corpus NAME`` / ``xner delete run ID`` / ``xner delete log``: remove a corpus or an alignment,
projection or refinement run, each recorded in the deletion log (see :mod:`xner.services.deleting`)."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Annotated, Any

import typer

from xner.cli._util import DbOpt, JsonOpt, emit, handle_errors, store_for
from xner.services.deleting import (
    DeletePlan,
    DeletionRecord,
    as_dict,
    delete_corpus,
    delete_run,
    deletion_log,
    plan_corpus_delete,
    plan_run_delete,
    report_summary,
)

app = typer.Typer(help="Delete a corpus or a run (recorded in the deletion log).", no_args_is_help=True)

ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force", help="Delete even while it is being reviewed (queued items, open items, review decisions)."
    ),
]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who deletes, for the log (default: the login name).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Only say what would be removed; delete nothing.")]


def plan_text(plan: DeletePlan) -> str:
    lines = [f"would delete {plan.target}: {plan.removes}"]
    if plan.refusal:
        lines.append(f"refused without --force: {plan.refusal}")
    return "\n".join(lines)


def _plan_json(plan: DeletePlan) -> dict:
    return {"would_delete": plan.kind, "name": plan.name, "corpus": plan.corpus, "detail": plan.detail,
            "counts": plan.counts, "reasons": plan.blockers}  # fmt: skip


def _plan_or_delete(dry_run: bool, as_json: bool, plan: Callable[[], Any], delete: Callable[[], Any]) -> None:
    """Print what ``delete`` would remove (``--dry-run``), or delete and print what it removed."""
    if dry_run:
        planned = plan()
        emit(_plan_json(planned), as_json, lambda: plan_text(planned))
        return
    report = delete()
    emit(as_dict(report), as_json, lambda: report_summary(report))


@app.command("corpus")
@handle_errors
def corpus(
    name: Annotated[str, typer.Argument(help="The corpus to delete.", show_default=False)],
    force: ForceOpt = False,
    by: ByOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete a corpus with its sentences, pairs, runs, review states and history (other corpora are untouched)."""
    store = store_for(db)
    _plan_or_delete(
        dry_run,
        as_json,
        lambda: plan_corpus_delete(store, name),
        lambda: delete_corpus(store, name, deleted_by=by or getpass.getuser(), force=force),
    )


@app.command("run")
@handle_errors
def run(
    run_id: Annotated[int, typer.Argument(help="The run's id (the Home page's run tables).", show_default=False)],
    kind: Annotated[
        str | None,
        typer.Option(
            help="alignment (also refinement runs) or projection; needed only when both kinds have this id.",
            show_default=False,
        ),
    ] = None,
    force: ForceOpt = False,
    by: ByOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete an alignment or projection run; review states keep their spans, other runs keep theirs."""
    store = store_for(db)
    _plan_or_delete(
        dry_run,
        as_json,
        lambda: plan_run_delete(store, run_id, kind=kind),
        lambda: delete_run(store, run_id, kind=kind, deleted_by=by or getpass.getuser(), force=force),
    )


def record_text(record: DeletionRecord) -> str:
    what = record.name if record.kind == "corpus" else f"{record.name} ({record.detail}) of {record.corpus}"
    counts = ", ".join(f"{n} {item}" for item, n in record.counts.items())
    forced = f" [forced: {'; '.join(record.reasons)}]" if record.forced else ""
    return f"{record.deleted_at:%Y-%m-%d %H:%M:%S} {record.deleted_by}: {record.kind} {what}: {counts}{forced}"


@app.command("log")
@handle_errors
def log(
    limit: Annotated[int, typer.Option(help="How many deletions to show, newest first.")] = 50,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the deletion log: who deleted what, when, and what it removed."""
    records = deletion_log(store_for(db), limit=limit)
    emit(records, as_json, lambda: "\n".join(record_text(r) for r in records) or "no deletions")
