"""Optional heavy packages (torch, transformers, ctranslate2) and models loaded by name or folder, with clear errors.

The neural aligners, the transformer tagger, MELM and the translators import these packages only when they run, so
``import xner`` stays fast and works without them. A model is a Hugging Face hub name (usable when it is already
in the local cache: these machines reach no model hub) or a folder written by ``save_pretrained``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from xner.errors import MissingDependencyError, XnerError


def require(package: str, feature: str) -> Any:
    """The module ``package``, or :class:`MissingDependencyError` naming ``feature`` when it is not installed."""
    try:
        return importlib.import_module(package)
    except ImportError:
        raise MissingDependencyError(package, feature) from None


def load_hint(model: str) -> str:
    """Why a model may have failed to load: a folder that is not a saved model, no such folder, or no hub here."""
    if os.path.isdir(model):
        return "is it a folder written by save_pretrained?"
    if os.path.isabs(model) or model.startswith((".", "~")) or model.count("/") > 1:  # hub names are [org/]name
        return "no such folder"
    return (
        "a hub name works only when the model is already in the local Hugging Face cache; otherwise pass "
        "a folder written by save_pretrained"
    )


def load_error(model: str, error: Exception) -> XnerError:
    """The error to raise when ``model`` cannot be loaded: the model, a hint and the first line of the cause."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return XnerError(f"cannot load model {model!r} ({load_hint(model)}): {reason}")


def is_hub_reachable(timeout: float = 2.0) -> bool:
    """Whether the model hub can be reached now: False at once under ``HF_HUB_OFFLINE``, else a TCP connection to
    its endpoint (``HF_ENDPOINT``) tried for at most ``timeout`` seconds."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    try:
        with socket.create_connection((endpoint.hostname or "huggingface.co", port), timeout=timeout):
            return True
    except OSError:
        return False


def is_cached(model: str) -> bool:
    """Whether hub model ``model`` is in the local Hugging Face cache (its ``config.json`` is there)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - comes with transformers
        return False
    try:
        return isinstance(try_to_load_from_cache(model, "config.json"), str)
    except ValueError:  # not a valid repository id
        return False


def require_available(model: str, way_out: str) -> None:
    """Fail at once, in one line ending with ``way_out``, when ``model`` is a hub name that is neither in the local
    cache nor downloadable (no hub reachable): loading it would only fail after the hub client's retries.

    A folder, a cached name or a reachable hub passes (a path that is no folder is left to the loader's error).
    """
    if os.path.isdir(model) or load_hint(model) == "no such folder" or is_cached(model) or is_hub_reachable():
        return
    raise XnerError(
        f"model {model!r} is not on this machine (no such folder, not in the local model cache) and no model hub "
        f"can be reached: {way_out}"
    )


def resolve_device(device: str, feature: str) -> str:
    """``device`` checked now (``auto``: cuda when torch sees a GPU, else cpu), so a missing GPU is a clear error."""
    torch = require("torch", feature)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except RuntimeError as exc:
        raise XnerError(f"unknown device {device!r}: use auto, cpu or cuda (or cuda:N)") from exc
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise XnerError(f"device {device!r} asked for, but torch sees no CUDA GPU here: use device=cpu or auto")
    if parsed.type == "cuda" and parsed.index is not None and parsed.index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise XnerError(f"device {device!r} asked for, but torch sees {count} GPU(s): cuda:0 to cuda:{count - 1}")
    return device


@contextlib.contextmanager
def quiet_transformers(transformers: Any) -> Iterator[None]:
    """transformers without its load reports and progress bars."""
    logging = transformers.utils.logging
    verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()
