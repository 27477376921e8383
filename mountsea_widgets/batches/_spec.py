"""What a batch is: its spec (prompts, models, seeds, varied axes, fixed parameters), its id,
the file that keeps the spec in the history, and what changed when the spec is given again."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._image_files import write_atomic
from ..comparison import Prompt

if TYPE_CHECKING:
    from ..history import History

#: The folder of the history that keeps one small JSON file per batch.
BATCHES_DIR = "batches"
#: What a batch id given by the user may be made of (it names files and run ids).
BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
#: Version of the batch file's layout.
BATCH_FILE_VERSION = 1


class BatchSpecChanged(ValueError):
    """The batch exists in the history with another spec; ``changes`` says what differs."""

    def __init__(self, batch_id: str, changes: list[str]) -> None:
        self.batch_id = batch_id
        self.changes = changes
        super().__init__(
            f"batch {batch_id!r} was started with another spec ({'; '.join(changes)}). "
            "Nothing was sent. Pass extend=True to add the new cells to it (cells already done "
            "are kept), or give another batch_id to start a new batch."
        )


def _json_safe(value: Any) -> Any:
    """``value`` as plain JSON data (a Path or other object becomes its text)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _prompt_entry(prompt: str) -> Any:
    params = prompt.params if isinstance(prompt, Prompt) else {}
    if params:
        return {"prompt": str(prompt), "params": _json_safe(dict(sorted(params.items())))}
    return str(prompt)


@dataclass(frozen=True)
class BatchSpec:
    """A batch's spec as plain JSON data: what identifies it, and what is compared to resume."""

    prompts: list[Any]
    models: list[str]
    seeds: list[int | None]
    vary: dict[str, list[Any]]
    params: dict[str, Any]

    @classmethod
    def of(
        cls,
        prompts: Sequence[str],
        models: Sequence[str],
        seeds: Sequence[int | None],
        vary: Mapping[str, Sequence[Any]] | None,
        params: Mapping[str, Any],
    ) -> BatchSpec:
        """The spec of a planned batch (``params`` already prepared: images as data URIs)."""
        return cls(
            prompts=[_prompt_entry(prompt) for prompt in prompts],
            models=list(models),
            seeds=list(seeds),
            vary={str(name): _json_safe(list(values)) for name, values in (vary or {}).items()},
            params=_json_safe(dict(sorted(params.items()))),
        )

    def to_json(self) -> dict[str, Any]:
        """The spec as a JSON object (the order of ``vary`` matters: columns, then rows)."""
        return {
            "prompts": self.prompts,
            "models": self.models,
            "seeds": self.seeds,
            "vary": self.vary,
            "params": self.params,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchSpec:
        """A spec read back from a batch file."""
        return cls(
            prompts=list(data.get("prompts") or []),
            models=[str(m) for m in data.get("models") or []],
            seeds=list(data.get("seeds") or [None]),
            vary=dict(data.get("vary") or {}),
            params=dict(data.get("params") or {}),
        )

    def digest(self) -> str:
        """A short hash of the spec: the batch id when none is given."""
        text = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))
        return "b" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:11]

    def changes_from(self, old: BatchSpec) -> list[str]:
        """What differs from ``old``, in words ("models: gpt-image-2 added", ...)."""
        changes: list[str] = []
        for name in ("prompts", "models"):
            before = [_key(item) for item in getattr(old, name)]
            after = [_key(item) for item in getattr(self, name)]
            added = [item for item in after if item not in before]
            removed = [item for item in before if item not in after]
            if added:
                changes.append(f"{name}: {_some(added)} added")
            if removed:
                changes.append(f"{name}: {_some(removed)} removed")
            if not added and not removed and before != after:
                changes.append(f"{name}: the same, in another order")
        for name in ("seeds", "vary", "params"):
            before, after = getattr(old, name), getattr(self, name)
            if before != after:
                changes.append(f"{name}: {_short(before)} became {_short(after)}")
        return changes


def _key(item: Any) -> str:
    return item if isinstance(item, str) else json.dumps(item, ensure_ascii=False, sort_keys=True)


def _some(items: list[str]) -> str:
    shown = ", ".join(repr(_short(item, 40)) for item in items[:3])
    return shown if len(items) <= 3 else f"{len(items)} ({shown}, …)"


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_batch_id(batch_id: object) -> str:
    """``batch_id`` if it is a usable id; a ValueError saying what is allowed otherwise."""
    if not isinstance(batch_id, str) or not BATCH_ID.match(batch_id):
        raise ValueError(
            "batch_id must be 1 to 40 letters, digits, '-' or '_' (starting with a letter or "
            f"digit), e.g. 'parti-v1'; got {batch_id!r}"
        )
    return batch_id


def batch_file(history: History, batch_id: str) -> Path:
    """Where the history keeps the spec of batch ``batch_id``."""
    return history.folder / BATCHES_DIR / f"{batch_id}.json"


def read_spec(history: History, batch_id: str) -> BatchSpec | None:
    """The spec the batch was started (or last extended) with; None for a new batch."""
    path = batch_file(history, batch_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"the batch file {path} cannot be read ({exc}); move it away to start the batch "
            "again (its runs stay in the history)"
        ) from None
    return BatchSpec.from_json(data.get("spec") or {})


def write_spec(history: History, batch_id: str, spec: BatchSpec, *, clock: Any = time.time) -> Path:
    """Keep ``spec`` as the batch's spec (atomically; a new batch's file is created)."""
    path = batch_file(history, batch_id)
    path.parent.mkdir(exist_ok=True, mode=0o700)
    record = {
        "v": BATCH_FILE_VERSION,
        "batch_id": batch_id,
        "spec": spec.to_json(),
        "written": clock(),
    }
    write_atomic(path, json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"))
    return path


def run_id_for(batch_id: str, model: str, input: Mapping[str, Any], occurrence: int) -> str:
    """The run id of one cell of a batch: the same for the same cell whenever the spec is given
    again (so resuming finds it in the history), and prefixed with the batch id."""
    text = json.dumps(
        [model, _json_safe(dict(input)), occurrence], ensure_ascii=False, sort_keys=True
    )
    return f"{batch_id}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"
