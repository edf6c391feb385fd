"""File formats: streaming readers and writers with ``file:line`` errors, chosen by name (:data:`READERS`,
:data:`WRITERS`)."""

# The registration order is the order the formats are offered in (conll first).
# isort: off
from xner.formats import conll as _conll  # noqa: F401 - registers the "conll" reader and writer
from xner.formats import jsonl as _jsonl  # noqa: F401 - registers the "jsonl" reader and writer
from xner.formats import docbin as _docbin  # noqa: F401 - registers the "spacy" writer
from xner.formats import hf_datasets as _hf_datasets  # noqa: F401 - registers the "hf" writer

# isort: on
from xner.formats.base import READERS, WRITERS, ExportSource, Reader, Writer

__all__ = ["READERS", "WRITERS", "ExportSource", "Reader", "Writer"]
