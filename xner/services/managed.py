"""The managed folder: where the app keeps what it writes on the server (trained models, exports, working files),
so that the browser names things, never server paths.

Where it is: ``$XNER_HOME`` when set; else, for a SQLite database file, a folder beside it named after it
(``/srv/xner/xner.db`` → ``/srv/xner/xner-home/``); else (PostgreSQL, in-memory SQLite) ``xner-home/`` in the
working directory. Inside it:

- ``models/``: one folder per saved tagger or model (``models/crf-yor-reviewed-20261207-1412/``);
- ``exports/``: files and folders to download;
- ``work/``: scratch space.

Names: the app derives them (:func:`derive_name`: the parts, e.g. tagger, corpus and statuses, and the time), and a
name a user types is checked, never rewritten (:func:`check_name`): one path component of ASCII letters, digits,
``.``, ``_`` and ``-``, starting with a letter or digit, at most :data:`MAX_NAME` characters. :meth:`ManagedFolder.path`
turns a checked name into a path and refuses any whose real location (symlinks followed) is outside its subfolder.
A model can also be named by its hub name (``xlm-roberta-base``, ``org/name``; :func:`check_hub_name`), never by a
filesystem path. The command line is unaffected: its user is on the server and gives real paths.

>>> folder = ManagedFolder(Path("/srv/xner-home"))
>>> str(folder.path(MODELS, "crf-yor"))
'/srv/xner-home/models/crf-yor'
>>> folder.path(MODELS, "../../etc")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
xner.services.managed.UnsafeNameError: model name '../../etc' is not allowed: use one name of letters, digits, ...
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from xner.errors import UnknownNameError, XnerError
from xner.store.db import sqlite_file

HOME_ENV = "XNER_HOME"
DEFAULT_HOME = "xner-home"
MODELS, EXPORTS, WORK = "models", "exports", "work"
KINDS = (MODELS, EXPORTS, WORK)
MAX_NAME = 100
MAX_DOWNLOAD_BYTES = 2**30  # the app sends at most 1 GiB in one download (it is built in memory)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_HUB_PART = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_HUB_NAME = re.compile(rf"{_HUB_PART}(/{_HUB_PART})?")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WHAT = {MODELS: "model", EXPORTS: "export", WORK: "working file"}


class UnsafeNameError(XnerError):
    """A name that is not one safe path component (or not a hub name), or that leads outside the managed folder."""


class NotFoundError(XnerError):
    """A name that is safe but names nothing in the managed folder; lists what there is."""


def home_folder(url: str | None = None, *, configured: str | None = None) -> Path:
    """The managed folder for the database at ``url`` (see the module docstring), as an absolute path;
    ``configured`` stands for ``$XNER_HOME`` (read when None).

    >>> home_folder("sqlite:////srv/xner/projects.db", configured="")
    PosixPath('/srv/xner/projects-home')
    >>> home_folder("postgresql+psycopg://xner@db/xner", configured="") == Path.cwd() / "xner-home"
    True
    >>> home_folder("sqlite:////srv/xner/projects.db", configured="/data/xner")
    PosixPath('/data/xner')
    """
    configured = (os.environ.get(HOME_ENV, "") if configured is None else configured).strip()
    if configured:
        return Path(configured).expanduser().absolute()
    database = sqlite_file(url)
    if database is not None:
        return database.parent / f"{database.stem}-home"
    return Path.cwd() / DEFAULT_HOME


def check_name(name: str, kind: str = MODELS) -> str:
    """``name`` when it is one safe path component (see the module docstring); else :class:`UnsafeNameError`.

    >>> check_name("crf-yor_v2.1")
    'crf-yor_v2.1'
    >>> check_name(".hidden", EXPORTS)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    xner.services.managed.UnsafeNameError: export name '.hidden' is not allowed: ...
    """
    if not isinstance(name, str) or len(name) > MAX_NAME or not _NAME.fullmatch(name):
        raise UnsafeNameError(
            f"{_WHAT.get(kind, kind)} name {name!r} is not allowed: use one name of letters, digits, '.', '_' and "
            f"'-' that starts with a letter or digit (at most {MAX_NAME} characters), not a path"
        )
    return name


def derive_name(*parts: str, when: datetime | None = None) -> str:
    """A safe name made of ``parts`` (unsafe characters become ``-``) and, with ``when``, its minute.

    >>> derive_name("crf", "yor", "reviewed", when=datetime(2026, 12, 7, 14, 12))
    'crf-yor-reviewed-20261207-1412'
    >>> derive_name("crf", "../<b>Ọ̀yọ́</b>")  # accents dropped, other characters replaced
    'crf-b-Oyo-b'
    """
    ascii_parts = [unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode() for part in parts]
    cleaned = [_UNSAFE.sub("-", part).strip("-._") for part in ascii_parts]
    stamp = [when.strftime("%Y%m%d-%H%M")] if when is not None else []
    name = "-".join(part for part in cleaned if part)
    name = re.sub(r"-{2,}", "-", name)[: MAX_NAME - 14].strip("-._") or "model"
    return "-".join([name, *stamp])


def check_hub_name(name: str) -> str:
    """``name`` when it reads as a model hub name (``xlm-roberta-base``, ``org/name``) and names no file or folder
    in the server's working directory (the libraries would load that instead); else :class:`UnsafeNameError`.

    >>> check_hub_name("Davlan/afro-xlmr-base")
    'Davlan/afro-xlmr-base'
    >>> check_hub_name("../models/x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    xner.services.managed.UnsafeNameError: '../models/x' is not a model hub name: give a name such as ...
    """
    if not isinstance(name, str) or len(name) > 2 * MAX_NAME or not _HUB_NAME.fullmatch(name) or Path(name).exists():
        raise UnsafeNameError(
            f"{name!r} is not a model hub name: give a name such as xlm-roberta-base or org/name (not a path), "
            "or choose a saved model"
        )
    return name


@dataclass(frozen=True, slots=True)
class ManagedFile:
    """One entry of a managed subfolder: a file, or a folder (a saved model) with the total size of its files."""

    kind: str
    name: str
    size: int  # bytes
    modified: datetime
    is_folder: bool


@dataclass(frozen=True, slots=True)
class Download:
    """An entry of the managed folder ready to download: its file name, MIME type and size on disk (the app makes
    its bytes: :func:`xner.ui.downloads.download_bytes`)."""

    path: Path
    file_name: str
    mime: str
    size: int


@dataclass(frozen=True)
class ManagedFolder:
    """The managed folder at ``root``: names in, paths out, never outside ``root``."""

    root: Path

    @classmethod
    def for_database(cls, url: str | None = None) -> ManagedFolder:
        """The managed folder of the database at ``url`` (see :func:`home_folder`)."""
        return cls(home_folder(url))

    def subfolder(self, kind: str) -> Path:
        """``models``, ``exports`` or ``work`` inside the root (not created)."""
        if kind not in KINDS:
            raise UnknownNameError("managed folder", kind, KINDS)
        return self.root / kind

    def path(self, kind: str, name: str) -> Path:
        """The path of ``name`` in subfolder ``kind``; refuses an unsafe name and any name whose real location
        (symlinks followed, the subfolder's own included) is not inside the subfolder.

        Raises:
            UnsafeNameError: ``name`` is not one safe component, or it (or the subfolder) leads elsewhere.
        """
        check_name(name, kind)
        folder = self.subfolder(kind)
        real_root = self.root.resolve()
        real_folder = folder.resolve()
        if real_folder != real_root / kind:
            raise UnsafeNameError(f"the managed {kind} folder is a link to somewhere else: {kind} are not kept there")
        target = folder / name
        if not target.resolve().is_relative_to(real_folder):
            raise UnsafeNameError(f"{_WHAT[kind]} {name!r} is a link to somewhere outside the managed folder")
        return target

    def existing(self, kind: str, name: str) -> Path:
        """Like :meth:`path`, for a name that must exist; :class:`NotFoundError` lists the names there are."""
        target = self.path(kind, name)
        if not target.exists():
            known = ", ".join(entry.name for entry in self.list(kind)) or "none yet"
            raise NotFoundError(f"no {_WHAT[kind]} named {name!r}; there are: {known}")
        return target

    def ensure(self, kind: str) -> Path:
        """The subfolder ``kind``, created when missing (with the root)."""
        folder = self.subfolder(kind)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def list(self, kind: str) -> list[ManagedFile]:
        """The entries of subfolder ``kind`` by name: no hidden ones (names starting with ``.``, such as a model
        still being written) and no links."""
        folder = self.subfolder(kind)
        if not folder.is_dir() or folder.is_symlink():
            return []
        found = []
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if not _NAME.fullmatch(entry.name) or entry.is_symlink():
                continue
            stat = entry.stat()
            size = sum(f.stat().st_size for f in folder_files(entry)) if entry.is_dir() else stat.st_size
            found.append(ManagedFile(kind, entry.name, size, datetime.fromtimestamp(stat.st_mtime), entry.is_dir()))
        return found

    def names(self, kind: str) -> list[str]:
        """The names of the entries of subfolder ``kind`` (see :meth:`list`)."""
        return [entry.name for entry in self.list(kind)]

    def download(self, kind: str, name: str) -> Download:
        """What to send for an entry: a file as it is, a folder (a saved model) as a ZIP archive of its files under
        ``name/`` (links inside it left out). The bytes are made by :func:`xner.ui.downloads.download_bytes`.

        Raises:
            UnsafeNameError, NotFoundError: see :meth:`existing`.
            XnerError: larger than :data:`MAX_DOWNLOAD_BYTES` (the app builds downloads in memory).
        """
        target = self.existing(kind, name)
        entry = next(e for e in self.list(kind) if e.name == name)
        if entry.size > MAX_DOWNLOAD_BYTES:
            raise XnerError(
                f"{_WHAT[kind]} {name!r} is {human_size(entry.size)}, more than the {human_size(MAX_DOWNLOAD_BYTES)} "
                "the app sends: copy it on the server, or ask the administrator"
            )
        if entry.is_folder:
            return Download(target, f"{name}.zip", "application/zip", entry.size)
        return Download(target, name, "application/octet-stream", entry.size)

    def shorten(self, value: Any) -> Any:
        """``value`` (a string, or lists and mappings of them) with every path inside the managed folder written
        relative to it (``models/crf-yor``), in whole values and in messages: what a page shows of a path.

        >>> folder = ManagedFolder(Path("/srv/h"))
        >>> folder.shorten({"model": "/srv/h/models/crf", "n": 3, "other": "/opt/m"})
        {'model': 'models/crf', 'n': 3, 'other': '/opt/m'}
        >>> folder.shorten("/srv/h/models/x holds no saved tagger")
        'models/x holds no saved tagger'
        """
        if isinstance(value, str):
            roots = dict.fromkeys([str(self.root), str(self.root.resolve())])
            for root in roots:
                value = value.replace(root + os.sep, "")
            return value
        if isinstance(value, Mapping):
            return {key: self.shorten(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.shorten(item) for item in value]
        return value


def folder_files(folder: Path) -> Iterator[Path]:
    """The regular files under ``folder``, links (to files or folders) left out."""
    for parent, dirs, files in os.walk(folder):
        base = Path(parent)
        dirs[:] = [d for d in dirs if not (base / d).is_symlink()]
        for name in files:
            path = base / name
            if not path.is_symlink() and path.is_file():
                yield path


def human_size(size: int) -> str:
    """``size`` bytes in B, KB, MB or GB (powers of 1024), one decimal from KB on.

    >>> human_size(512), human_size(1536), human_size(3 * 2**30)
    ('512 B', '1.5 KB', '3.0 GB')
    """
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def file_rows(entries: Sequence[ManagedFile]) -> list[dict[str, Any]]:
    """Rows ``{name, kind, size, modified}`` of a Files table."""
    return [
        {
            "name": entry.name,
            "kind": "folder" if entry.is_folder else "file",
            "size": human_size(entry.size),
            "modified": entry.modified.strftime("%Y-%m-%d %H:%M"),
        }
        for entry in entries
    ]
