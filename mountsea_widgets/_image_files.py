"""Image files with the generation metadata inside: the one writer behind every saved image.

``Result.save``, the Studio's Save (:func:`mountsea_widgets.run.save_run`) and the history all
write through :func:`write_image`, so every file carries the same metadata
(:func:`image_metadata`: model, input, task id, run id, created time, index) and follows the
same rules:

- **Names** come from our own cleaning of an id (:func:`file_stem`), never from a server's
  file name: characters outside ``A-Z a-z 0-9 _ -`` become ``_``, the stem is at most
  :data:`MAX_STEM` characters, and a stem that cleaning changed or shortened gets a short hash
  of the whole id, so two different ids never share a name (``job/1`` and ``job:1``). The image
  number (``_<n>``) is never cut off. Saved copies are numbered from 1 (``<task id>_1.png``);
  the history's own files keep their historical numbering from 0 (``<run id>_0.png``).
- **Nothing is overwritten.** A name is claimed with an exclusive create; when a file of that
  name exists with the very same bytes it is reused (saving the same run twice writes nothing
  new), otherwise the next candidate name is tried (``_1-2``, ``_1-3``...).
- **Atomic**: the bytes go to a temporary file beside the target (:data:`TEMP_SUFFIX`),
  are fsync'ed and moved into place, so a reader sees no file or the whole file.
- **Inside the folder**: a name that would resolve anywhere else is refused.
- The history's export copies its files the same way (:func:`copy_names`).
- **A paid image is never dropped**: when its metadata cannot be embedded (a GIF, a damaged
  container) it is written as received.

:func:`is_temp_name` tells a temporary file of :func:`write_atomic` from anything else, so the
history can remove those that a killed process left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._journal import fsync_folder
from .metadata import MetadataError, embed

__all__ = [
    "MAX_STEM",
    "TEMP_SUFFIX",
    "copy_names",
    "file_stem",
    "image_metadata",
    "is_temp_name",
    "numbered_names",
    "save_images",
    "with_metadata",
    "write_atomic",
    "write_image",
]

log = logging.getLogger(__name__)

#: Longest cleaned id kept in a file name (a hash of the whole id follows when it is cut).
MAX_STEM = 80
#: How the temporary files of :func:`write_atomic` end.
TEMP_SUFFIX = ".tmp"
#: How many names :func:`write_image` tries before giving up (``_1``, ``_1-2`` ... ``_1-1000``).
MAX_CANDIDATES = 1000

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{12}" + re.escape(TEMP_SUFFIX) + r"$")
_HASH_CHARS = 10

Embed = Callable[[bytes, str, Mapping[str, Any]], bytes]
Write = Callable[[Path, bytes], None]


def image_metadata(
    *,
    model: str,
    input: Mapping[str, Any],
    task_id: str | None,
    run_id: str | None,
    created: float | None,
    index: int,
) -> dict[str, Any]:
    """The metadata embedded in every saved image (``mw.read_metadata`` reads it back).

    ``index`` is the image's place in its task, from 0; ``created`` the Unix time the run
    started. Every writer passes all six, so a file says the same whichever way it was saved.
    """
    meta = {
        "model": model,
        "input": dict(input),
        "task_id": task_id,
        "run_id": run_id,
        "created": created,
        "index": index,
    }
    cost = _run_cost(model, input)
    if cost is not None:
        meta["cost"] = cost  # the whole run's estimated cost (all its images)
    return meta


def _run_cost(model: str, input: Mapping[str, Any]) -> dict[str, Any] | None:
    """The estimated cost of the run an image came from, as data (None for an unknown model)."""
    from ._cost import estimate_input
    from .catalog import catalog

    if model not in catalog:
        return None
    try:
        return estimate_input(model, input).to_dict()
    except Exception as exc:  # a broken price table must never stop an image being saved
        log.info("no cost estimate for the image metadata: %s", exc)
        return None


def file_stem(identifier: str | None, fallback: str = "run") -> str:
    """A file-name-safe stem for an id; distinct ids always give distinct stems.

    Unsafe characters become ``_`` and the result is at most :data:`MAX_STEM` characters;
    when that changed the id at all, ``-`` and a hash of the whole id follow (an id that is
    nothing but unsafe characters becomes ``<fallback>-<hash>``).
    """
    text = identifier if isinstance(identifier, str) else ""
    cleaned = _UNSAFE.sub("_", text).strip("_")[:MAX_STEM]
    if cleaned != text or not cleaned:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
        cleaned = f"{cleaned}-{digest}" if cleaned else f"{fallback}-{digest}"
    return cleaned


def numbered_names(stem: str, number: int, ext: str) -> Iterator[str]:
    """The names a saved copy may take: ``<stem>_<n>.<ext>``, then ``<stem>_<n>-2.<ext>``..."""
    yield f"{stem}_{number}.{ext}"
    for copy in range(2, MAX_CANDIDATES + 1):
        yield f"{stem}_{number}-{copy}.{ext}"


def copy_names(name: str) -> Iterator[str]:
    """The names a copy of a file called ``name`` may take: ``name``, ``<stem>-2<ext>``..."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    yield name
    for copy in range(2, MAX_CANDIDATES + 1):
        yield f"{stem}-{copy}{suffix}"


def with_metadata(
    data: bytes,
    content_type: str,
    meta: Mapping[str, Any],
    *,
    embed: Embed = embed,
) -> bytes:
    """``data`` with ``meta`` embedded, or ``data`` unchanged when that is impossible.

    A paid image is never lost because its metadata could not be written (a format without
    metadata, a damaged container, an unexpected error): it is kept as received, and a log
    line says why.
    """
    try:
        return embed(data, content_type, meta)
    except MetadataError as exc:
        log.info("saving image %s of %s without metadata: %s", meta.get("index"), _who(meta), exc)
    except Exception:
        log.exception("saving image %s of %s without metadata", meta.get("index"), _who(meta))
    return data


def _who(meta: Mapping[str, Any]) -> str:
    run_id, task_id = meta.get("run_id"), meta.get("task_id")
    return f"run {run_id}" if run_id else f"task {task_id}"


def write_image(
    folder: str | os.PathLike[str],
    names: Iterable[str],
    data: bytes,
    *,
    write: Write | None = None,
) -> Path:
    """Write ``data`` into ``folder`` under the first of ``names`` that is free, and return it.

    A name is free when no file has it (claimed with an exclusive create, so two writers never
    take the same one) or when the file there already holds exactly ``data`` (then nothing is
    written and that path is returned). ``write`` puts the bytes in place (default
    :func:`write_atomic`). Raises ``ValueError`` for a name that would leave ``folder``, and
    ``FileExistsError`` when every name is taken by other bytes.
    """
    root = Path(folder)
    put = write or write_atomic
    tried = 0
    for name in names:
        tried += 1
        if name in ("", ".", "..") or any(mark in name for mark in ("/", "\\", "\0")):
            raise ValueError(f"refusing to write {name!r} outside {str(root)!r}")
        path = root / name
        try:
            # O_EXCL never follows a symbolic link: one planted under this name is skipped.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if _holds(path, data):
                # Touched: a reused file is as fresh as a new one for the leftover cleaning.
                with contextlib.suppress(OSError):
                    os.utime(path)
                return path
            continue
        os.close(fd)  # the name is ours now; the bytes replace the empty file atomically
        try:
            put(path, data)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path
    raise FileExistsError(
        f"{tried} names in {str(root)!r} are taken by other files; move some away and save again"
    )


def _holds(path: Path, data: bytes) -> bool:
    """True when ``path`` is a regular file with exactly ``data`` in it (size checked first)."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def save_images(
    folder: str | os.PathLike[str],
    stem: str,
    images: Sequence[tuple[bytes, str, str]],
    metadata: Callable[[int], Mapping[str, Any]],
) -> list[Path]:
    """Save copies of a task's images into ``folder`` (created if missing), numbered from 1.

    ``images`` holds ``(bytes, content_type, extension)`` per image; ``metadata(index)`` gives
    the metadata of image ``index`` (from 0, see :func:`image_metadata`). Returns the paths,
    one per image, in order; see :func:`write_image` for the rules.
    """
    root = Path(folder).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for index, (data, content_type, ext) in enumerate(images):
        content = with_metadata(data, content_type, metadata(index))
        paths.append(write_image(root, numbered_names(stem, index + 1, ext), content))
    return paths


def write_atomic(path: Path, data: bytes, *, durable: bool = True, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    ``mode``: the new file's permissions (less the umask); the history writes ``0o600``.

    The bytes go to a temporary file in the same folder (``.<name>.<random>.tmp``), are
    fsync'ed, then ``os.replace`` moves the file into place (atomic on POSIX and Windows). On
    failure nothing is left behind; a killed process may leave the temporary file, which
    :func:`is_temp_name` recognises.
    """
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_folder(path.parent)


def is_temp_name(name: str) -> bool:
    """True for the name of a temporary file made by :func:`write_atomic`."""
    return bool(_TEMP_NAME.match(name))
