"""JSON Lines in the shape spaCy and Prodigy users know: one object per sentence with text, tokens and spans.

Written form (Prodigy's ``ner_manual`` task)::

    {"text": "Ada sang", "tokens": [{"text": "Ada", "start": 0, "end": 3, "id": 0, "ws": true}, ...],
     "spans": [{"start": 0, "end": 3, "token_start": 0, "token_end": 0, "label": "PER"}], "meta": {...}}

Character offsets ``start``/``end`` are half-open. Prodigy's ``token_end`` is *inclusive*: the parser and writer
convert, so inside xner every span stays half-open. Read also: ``tokens`` as plain strings, spans with character
offsets only, or a ``tags``/``ner_tags`` list of IOB tags instead of spans.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TextIO

from xner.errors import InputError
from xner.formats.base import READERS, WRITERS, ExportSource
from xner.formats.conll import ConllOptions, RawSentence, ReadStats, raw_to_sentence, without_lines
from xner.formats.text import PathLike, iter_lines
from xner.text import normalize
from xner.types import ProgressFn, Sentence, Span


class _Bad(Exception):
    """A reason, raised inside the parser and turned into an InputError with file and line."""


def token_offsets(tokens: Iterable[str], text: str | None) -> tuple[str, list[tuple[int, int, bool]]]:
    """Character offsets of each token in ``text`` (space-joined tokens when text is None or does not match).

    Returns:
        The text used, and per token ``(start, end, followed_by_whitespace)``.
    """
    tokens = list(tokens)
    if text is not None:
        offsets, cursor = [], 0
        for token in tokens:
            start = text.find(token, cursor)
            if start < 0 or text[cursor:start].strip():
                break
            offsets.append((start, start + len(token)))
            cursor = start + len(token)
        else:
            return text, [(s, e, e < len(text) and text[e].isspace()) for s, e in offsets]
    joined, offsets3, cursor = " ".join(tokens), [], 0
    for index, token in enumerate(tokens):
        offsets3.append((cursor, cursor + len(token), index < len(tokens) - 1))
        cursor += len(token) + 1
    return joined, offsets3


def sentence_to_record(sentence: Sentence, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A sentence as a Prodigy/spaCy-style dict (``token_end`` inclusive, as Prodigy defines it)."""
    text, offsets = token_offsets(sentence.tokens, sentence.text)
    tokens = [
        {"text": token, "start": start, "end": end, "id": index, "ws": ws}
        for index, (token, (start, end, ws)) in enumerate(zip(sentence.tokens, offsets, strict=False))
    ]
    spans = [
        {
            "start": offsets[span.start][0],
            "end": offsets[span.end - 1][1],
            "token_start": span.start,
            "token_end": span.end - 1,
            "label": span.label,
        }
        for span in sentence.spans
    ]
    record: dict[str, Any] = {"text": text, "tokens": tokens, "spans": spans}
    if sentence.lang:
        record["meta"] = {"lang": sentence.lang}
    if meta:
        record.setdefault("meta", {}).update(meta)
    return record


def sentence_to_json_line(sentence: Sentence, meta: Mapping[str, Any] | None = None) -> str:
    """One sentence as a JSONL line (with its newline)."""
    return json.dumps(sentence_to_record(sentence, meta), ensure_ascii=False) + "\n"


def write_jsonl(sentences: Iterable[Sentence], out: TextIO) -> int:
    """Write one JSON object per sentence; returns how many were written."""
    count = 0
    for sentence in sentences:
        out.write(sentence_to_json_line(sentence))
        count += 1
    return count


@WRITERS.register("jsonl")
@dataclass
class JsonlWriter:
    """JSONL export in Prodigy's ``ner_manual`` shape, each record with its metadata."""

    name: ClassVar[str] = "jsonl"
    folder: ClassVar[bool] = False

    def write(self, source: ExportSource, path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            for sentence, meta in source.rows():
                handle.write(sentence_to_json_line(sentence, meta))


def _tokens_of(record: dict[str, Any]) -> list[str]:
    tokens = record.get("tokens")
    if not isinstance(tokens, list) or not tokens:
        raise _Bad("'tokens' must be a non-empty list of strings or of {'text': ...} objects")
    out = []
    for index, token in enumerate(tokens):
        value = token.get("text") if isinstance(token, dict) else token
        if not isinstance(value, str) or not value or any(ch.isspace() for ch in value):
            raise _Bad(f"token {index} must be a non-empty string without spaces, got {value!r}")
        out.append(value)
    return out


def _span_bounds(span: dict[str, Any], record: dict[str, Any], n_tokens: int) -> tuple[int, int]:
    """Half-open token bounds of a span given by token indices or by character offsets."""
    if "token_start" in span:
        start, last = span.get("token_start"), span.get("token_end", span.get("token_start"))
        if not isinstance(start, int) or not isinstance(last, int) or not 0 <= start <= last < n_tokens:
            raise _Bad(f"span {span!r}: token_start/token_end (inclusive) must satisfy 0 <= start <= end < {n_tokens}")
        return start, last + 1
    tokens = record.get("tokens")
    if not all(isinstance(t, dict) and "start" in t and "end" in t for t in tokens or []):
        raise _Bad(f"span {span!r} has no token_start/token_end and the tokens carry no character offsets")
    starts = {t["start"]: i for i, t in enumerate(tokens)}
    ends = {t["end"]: i for i, t in enumerate(tokens)}
    start, end = span.get("start"), span.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or start not in starts or end not in ends:
        raise _Bad(f"span {span!r}: character offsets do not fall on token boundaries")
    if starts[start] > ends[end]:
        raise _Bad(f"span {span!r}: character offsets must satisfy start < end")
    return starts[start], ends[end] + 1


def record_to_sentence(
    record: Any, options: ConllOptions, *, name: str, line: int, lang: str | None, stats: ReadStats
) -> Sentence:
    """Turn one decoded JSON object into a sentence, checking tokens, spans/tags and labels."""
    if not isinstance(record, dict):
        raise _Bad(f"expected a JSON object per line, got {type(record).__name__}")
    tokens = _tokens_of(record)
    tags = record.get("tags", record.get("ner_tags"))
    if tags is not None:
        if not isinstance(tags, list) or len(tags) != len(tokens):
            count = len(tags) if isinstance(tags, list) else "no list of"
            raise _Bad(f"token/label count mismatch: {len(tokens)} tokens but {count} tags")
        raw = RawSentence(line, tokens, [str(t) for t in tags], one_token_per_line=False)
        read_options = options
    else:
        spans_in = record.get("spans", [])
        if not isinstance(spans_in, list):
            raise _Bad("'spans' must be a list")
        spans = []
        for span in spans_in:
            if not isinstance(span, dict) or not isinstance(span.get("label"), str) or not span["label"]:
                raise _Bad(f"span {span!r} needs a non-empty string 'label'")
            start, end = _span_bounds(span, record, len(tokens))
            spans.append(Span(start, end, span["label"]))
        raw = RawSentence(line, tokens, _spans_to_tags_checked(spans, len(tokens)), one_token_per_line=False)
        # The tags are built here from spans, in IOB2: the user's --scheme describes tag lists, not these.
        read_options = dataclasses.replace(options, scheme="iob2")
    sentence = raw_to_sentence(raw, read_options, name=name, lang=lang, stats=stats)
    text = record.get("text")
    if isinstance(text, str):  # kept whether the entities came as tags or as spans
        sentence = Sentence(sentence.tokens, sentence.spans, normalize(text, options.normal_form), sentence.lang)
    return sentence


def _spans_to_tags_checked(spans: list[Span], length: int) -> list[str]:
    tags = ["O"] * length
    for span in sorted(spans):
        if any(tag != "O" for tag in tags[span.start : span.end]):
            raise _Bad(f"span [{span.start}, {span.end}) {span.label} overlaps another span")
        tags[span.start : span.end] = [f"B-{span.label}"] + [f"I-{span.label}"] * (len(span) - 1)
    return tags


@READERS.register("jsonl")
def read_jsonl_numbered(
    path: PathLike,
    options: ConllOptions | None = None,
    *,
    lang: str | None = None,
    stats: ReadStats | None = None,
    on_progress: ProgressFn | None = None,
    display_name: str | None = None,
) -> Iterator[tuple[int, Sentence]]:
    """Stream ``(line, sentence)`` from a JSONL file (blank lines are skipped), with each record's 1-based line.

    Raises:
        InputError: invalid JSON, a record without tokens, a token/label count mismatch, a span out of range
            or overlapping, or a label outside the label set; with file and line.
    """
    options = options or ConllOptions()
    stats = stats if stats is not None else ReadStats()
    name = display_name or str(path)
    for number, text in iter_lines(path, on_progress=on_progress, display_name=name):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
            yield number, record_to_sentence(record, options, name=name, line=number, lang=lang, stats=stats)
        except json.JSONDecodeError as error:
            raise InputError(name, number, f"invalid JSON at column {error.colno}: {error.msg}") from None
        except _Bad as error:
            raise InputError(name, number, str(error)) from None
    if stats.sentences == 0:
        raise InputError(name, None, "no records found: expected one JSON object per line")


read_jsonl = without_lines(read_jsonl_numbered)
