"""Hugging Face ``datasets`` folders, as ``DatasetDict.save_to_disk`` writes them and ``load_from_disk`` reads them.

One dataset per split, each with the columns of the hub's NER sets (CoNLL-2003, MasakhaNER): ``id`` (string),
``tokens`` (list of strings) and ``ner_tags`` (list of class ids, IOB2). The ``ner_tags`` feature is a
``ClassLabel`` whose names are ``O`` then ``B-X``, ``I-X`` for each label X in sorted order, so
``features["ner_tags"].feature.names`` turns ids back into tags. ``datasets`` is optional: it is imported when a
folder is written.

Rows stream into one Arrow file per split in a scratch folder (constant memory), which ``save_to_disk`` then
copies into the target folder: the disk briefly holds the data twice.

>>> import tempfile, os
>>> from xner.types import Span
>>> folder = os.path.join(tempfile.mkdtemp(), "yor")
>>> rows = [("train", "0", Sentence(("Ọlá", "Adé", "sùn"), (Span(0, 2, "PER"),)))]
>>> write_dataset_dict(rows, folder, splits=["train", "dev"], labels=["PER"])
{'train': 1, 'dev': 0}
>>> import datasets
>>> loaded = datasets.load_from_disk(folder)
>>> loaded["train"][0]
{'id': '0', 'tokens': ['Ọlá', 'Adé', 'sùn'], 'ner_tags': [1, 2, 0]}
>>> loaded["train"].features["ner_tags"].feature.names
['O', 'B-PER', 'I-PER']
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from xner.errors import MissingDependencyError, XnerError
from xner.formats.base import WRITERS, ExportSource
from xner.formats.text import PathLike
from xner.schemes import spans_to_tags
from xner.types import Sentence

FEATURE = "the Hugging Face datasets export (--format hf)"
SPLIT_NAME = re.compile(r"\w+(\.\w+)*")  # what datasets accepts as a split name


def _datasets() -> Any:
    """The ``datasets`` module, imported on first use; a missing package is named."""
    try:
        import datasets
    except ImportError:
        raise MissingDependencyError("datasets", FEATURE) from None
    return datasets


def ner_tag_names(labels: Iterable[str]) -> list[str]:
    """The IOB2 tag names of ``labels``, as class ids number them: ``O``, then ``B-X``, ``I-X`` per sorted label.

    >>> ner_tag_names({"PER", "LOC", "DATE"})
    ['O', 'B-DATE', 'I-DATE', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER']
    """
    return ["O"] + [f"{prefix}-{label}" for label in sorted(set(labels)) for prefix in ("B", "I")]


def check_split_names(splits: Iterable[str]) -> None:
    """Raise XnerError for a split name that ``datasets`` would refuse (letters, digits, ``_``; dots between)."""
    for split in splits:
        if not SPLIT_NAME.fullmatch(split):
            raise XnerError(
                f"split {split!r} cannot name a Hugging Face dataset split: use letters, digits and '_' "
                "(dots between words), e.g. train, validation, test"
            )


def sentence_to_example(sentence: Sentence, id_: str, tag_ids: Mapping[str, int]) -> dict[str, Any]:
    """One row: ``{"id", "tokens", "ner_tags"}`` with the IOB2 tags as class ids.

    >>> from xner.types import Span
    >>> sentence_to_example(Sentence(("Ada", "sang"), (Span(0, 1, "PER"),)), "7", {"O": 0, "B-PER": 1, "I-PER": 2})
    {'id': '7', 'tokens': ['Ada', 'sang'], 'ner_tags': [1, 0]}

    Raises:
        XnerError: spans overlap, or a label has no class id.
    """
    tags = spans_to_tags(sentence.spans, len(sentence.tokens))
    try:
        ids = [tag_ids[tag] for tag in tags]
    except KeyError as error:
        raise XnerError(f"tag {error.args[0]!r} of sentence {id_} is not among the class names") from None
    return {"id": id_, "tokens": list(sentence.tokens), "ner_tags": ids}


def write_dataset_dict(
    rows: Iterable[tuple[str, str, Sentence]],
    folder: PathLike,
    *,
    splits: Sequence[str],
    labels: Collection[str],
) -> dict[str, int]:
    """Save ``(split, id, sentence)`` rows as a DatasetDict folder with one dataset per name in ``splits``.

    Every split in ``splits`` is written, an empty one as a valid dataset with no rows. Returns the rows per split.

    Raises:
        XnerError: a split name ``datasets`` refuses, a row in a split not in ``splits``, overlapping spans or a
            label outside ``labels``.
        MissingDependencyError: ``datasets`` is not installed.
    """
    datasets = _datasets()
    from datasets.arrow_writer import ArrowWriter

    check_split_names(splits)
    names = ner_tag_names(labels)
    tag_ids = {name: index for index, name in enumerate(names)}
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "tokens": datasets.List(datasets.Value("string")),
            "ner_tags": datasets.List(datasets.ClassLabel(names=names)),
        }
    )
    target = Path(folder)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", suffix=".scratch", dir=target.parent) as scratch:
        files = {split: str(Path(scratch) / f"{index}.arrow") for index, split in enumerate(splits)}
        writers = {split: ArrowWriter(features=features, path=path) for split, path in files.items()}
        try:
            for split, id_, sentence in rows:
                if split not in writers:
                    raise XnerError(f"sentence {id_} is in split {split!r}, not among the splits {list(splits)}")
                writers[split].write(sentence_to_example(sentence, id_, tag_ids))
            counts = {split: writer.finalize()[0] for split, writer in writers.items()}
        finally:
            for writer in writers.values():
                writer.close()
        _save(datasets, files, target)
    return counts


@WRITERS.register("hf")
@dataclass
class DatasetWriter:
    """Hugging Face export: a ``datasets`` folder for ``load_from_disk``, one dataset per split, the tag names
    numbered over the corpus's whole label set."""

    name: ClassVar[str] = "hf"
    folder: ClassVar[bool] = True

    def write(self, source: ExportSource, path: Path) -> None:
        splits = source.split_names()
        check_split_names(splits)  # before reading any sentence
        labels = source.labels()
        rows = ((meta["split"], str(meta["position"]), sentence) for sentence, meta in source.rows())
        write_dataset_dict(rows, path, splits=splits, labels=labels)


def _save(datasets: Any, files: Mapping[str, str], target: Path) -> None:
    """Copy the per-split Arrow files into a DatasetDict folder at ``target``, quietly."""
    bars_were_on = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        loaded = datasets.DatasetDict(
            {split: datasets.Dataset.from_file(path, split=datasets.NamedSplit(split)) for split, path in files.items()}
        )
        # One shard at least: datasets writes no file for an empty split unless told, and cannot load it back.
        loaded.save_to_disk(str(target), num_shards={split: 1 for split, d in loaded.items() if not len(d)})
        del loaded  # release the memory maps before the scratch files go
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
