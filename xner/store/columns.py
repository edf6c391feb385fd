"""Column types that turn stored JSON into core types and back, so that no service converts span JSON by hand.

- :class:`SpanList`: a JSON list of ``{"start", "end", "label"}`` objects (``review_state.spans``,
  ``review_event.spans_before`` / ``spans_after``), read and written as a sorted tuple of :class:`~xner.types.Span`.
  It stores exactly the JSON the schema has always held (same keys, same order, sorted spans): no migration.
- :func:`record_to_projected` / :func:`projected_to_record`: one ``projection.spans`` record and the
  :class:`~xner.types.ProjectedSpan` it stands for. That column stays plain JSON because a record carries more than a
  span (its confidence, source span and links) and no method name (the run has it); these two functions are the only
  place its keys are spelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from xner.errors import XnerError
from xner.types import ProjectedSpan, Span


class SpanList(TypeDecorator[tuple[Span, ...]]):
    """A JSON column of spans: written from any iterable of :class:`Span` (stored sorted as
    ``[{"start", "end", "label"}, ...]``), read back as a sorted ``tuple[Span, ...]``.

    >>> column = SpanList()
    >>> column.process_bind_param([Span(3, 4, "LOC"), Span(0, 2, "PER")], None)
    [{'start': 0, 'end': 2, 'label': 'PER'}, {'start': 3, 'end': 4, 'label': 'LOC'}]
    >>> column.process_result_value([{"start": 3, "end": 4, "label": "LOC"}], None)
    (Span(start=3, end=4, label='LOC'),)
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Iterable[Span] | None, dialect: Dialect | None) -> list[dict[str, Any]] | None:
        if value is None:
            return None
        spans = list(value)
        if not all(isinstance(span, Span) for span in spans):  # a dict here is a caller that still converts by hand
            raise XnerError(f"a span list column takes Span values, got {[type(s).__name__ for s in spans]}")
        return [span_to_record(span) for span in sorted(spans)]

    def process_result_value(self, value: Any, dialect: Dialect | None) -> tuple[Span, ...] | None:
        if value is None:
            return None
        return tuple(sorted(record_to_span(record) for record in value))


def span_to_record(span: Span) -> dict[str, Any]:
    """A span as one stored JSON object.

    >>> span_to_record(Span(0, 2, "PER"))
    {'start': 0, 'end': 2, 'label': 'PER'}
    """
    return {"start": span.start, "end": span.end, "label": span.label}


def record_to_span(record: Mapping[str, Any]) -> Span:
    """The span of one stored JSON object (a span list's or a projection record's; extra keys are ignored).

    >>> record_to_span({"start": 1, "end": 3, "label": "ORG", "confidence": 0.5})
    Span(start=1, end=3, label='ORG')
    """
    return Span(int(record["start"]), int(record["end"]), str(record["label"]))


def projected_to_record(projected: ProjectedSpan) -> dict[str, Any]:
    """A projected span as stored in ``projection.spans`` (its method is the run's, not stored per span).

    >>> projected_to_record(ProjectedSpan(Span(0, 1, "PER"), "heuristic", 0.91234, Span(2, 3, "PER"), ((2, 0),)))
    {'start': 0, 'end': 1, 'label': 'PER', 'confidence': 0.9123, 'links': [[2, 0]], 'src_start': 2, 'src_end': 3}
    """
    record: dict[str, Any] = {
        **span_to_record(projected.span),
        "confidence": round(projected.confidence, 4),
        "links": [list(link) for link in projected.links],
    }
    if projected.src_span is not None:
        record.update(src_start=projected.src_span.start, src_end=projected.src_span.end)
    return record


def record_to_projected(record: Mapping[str, Any], method: str) -> ProjectedSpan:
    """The projected span of one ``projection.spans`` record, made by ``method`` (its run's).

    >>> record_to_projected({"start": 0, "end": 1, "label": "PER", "confidence": 0.9}, "heuristic").confidence
    0.9
    """
    span = record_to_span(record)
    source = None
    if record.get("src_start") is not None:
        source = Span(record["src_start"], record["src_end"], record["label"])
    links = tuple((int(i), int(j)) for i, j in record.get("links", ()))
    return ProjectedSpan(span, method, float(record.get("confidence", 1.0)), source, links)


def record_confidence(record: Mapping[str, Any]) -> float:
    """The confidence of one ``projection.spans`` record (1.0 when it has none)."""
    return float(record.get("confidence", 1.0))
