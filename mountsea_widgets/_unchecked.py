"""Values sent unchecked: what ``strict=False`` lets through, and the warning that says so.

The bundled catalog is a copy of the hub's reference data, and the hub may accept more than
the copy knows (a new aspect ratio, a new resolution tier, a new parameter). By default a value
the catalog refuses is never sent. With ``strict=False`` it is sent as given and the hub
decides: a refusal comes back as the hub's own error, naming the parameter. Each such value
is announced with an :class:`UncheckedValueWarning` (and on the run), and the history's start
record lists it under ``"unchecked"``.

Some values stay refused even so, because no request can carry them: a value JSON cannot
hold (an object, NaN), text that is not valid Unicode (a lone surrogate from a bad paste), a
parameter name that is not a string or looks like a credential, a missing required value.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import re
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import Problem, ValidationError

if TYPE_CHECKING:
    from .catalog import ModelSpec

#: Parameter names that look like credentials (letters and digits only, lower case): never
#: sent as model input, strict or not. The key goes in the Authorization header only, and the
#: history drops such names, so the journal would not show what was sent.
_CREDENTIALS = frozenset(
    {"apikey", "authorization", "auth", "authtoken", "accesstoken", "bearer", "token"}
    | {"secret", "clientsecret", "password"}
)


class UncheckedValueWarning(UserWarning):
    """A value the catalog refuses is sent anyway, because ``strict=False`` was given.

    The message names the parameter and why the catalog refused it; the hub decides.
    """


@dataclass(frozen=True)
class CheckedInput:
    """An input ready to send, and the catalog refusals ``strict=False`` set aside."""

    input: dict[str, Any]
    #: One problem per value sent although the catalog refused it (empty when strict).
    unchecked: tuple[Problem, ...] = ()

    @property
    def names(self) -> list[str]:
        """The names of the parameters sent unchecked, in input order."""
        return [problem.param for problem in self.unchecked]

    def messages(self, model: str) -> list[str]:
        """One sentence per unchecked value, as the warning and the run show it."""
        return [unchecked_message(model, problem) for problem in self.unchecked]


def unchecked_message(model: str, problem: Problem) -> str:
    """What sending ``problem``'s value unchecked means, in words."""
    allowed = f"; the catalog allows {problem.allowed}" if problem.allowed else ""
    return (
        f"{problem.param} is sent unchecked (strict=False): the catalog of {model} refuses it "
        f"({problem.message}{allowed}). The hub decides; if it refuses too, its error names "
        f"{problem.param}."
    )


def check_input(spec: ModelSpec, input: Mapping[str, Any], *, strict: bool = True) -> CheckedInput:
    """Validate ``input`` for ``spec``; with ``strict=False``, keep sendable refused values.

    Strict (the default): exactly :meth:`ModelSpec.validate` (a :class:`ValidationError` names
    every problem). Not strict: values the catalog refuses but a request can carry are kept as
    given and listed in :attr:`CheckedInput.unchecked`; the rest is cleaned as usual. What no
    request can carry still raises :class:`ValidationError`, saying why.
    """
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be True or False, got {strict!r}")
    try:
        return CheckedInput(spec.validate(input))
    except ValidationError as exc:
        if strict or not isinstance(input, Mapping):
            raise
        problems = exc.problems
    overridden: list[Problem] = []
    blocking: list[Problem] = []
    unset: set[str] = set()
    for problem in problems:
        if problem.param in input and _is_unset(input[problem.param]):
            unset.add(problem.param)  # a parameter the catalog does not know, left unset
            continue
        reason = _why_unsendable(problem, input)
        if reason is None:
            overridden.append(problem)
        else:
            blocking.append(
                Problem(
                    problem.param,
                    f"{problem.message}; not sent even with strict=False: {reason}",
                    problem.value,
                    problem.allowed,
                )
            )
    if blocking:
        raise ValidationError(spec.id, blocking)
    names = {problem.param for problem in overridden}
    rest = {name: value for name, value in input.items() if name not in names | unset}
    cleaned = _cleaned(spec, rest, names)
    # The input's own order, as the caller gave it: checked values cleaned, the others as given.
    sent = {
        name: (value if name in names else cleaned[name])
        for name, value in input.items()
        if name in names or name in cleaned
    }
    ordered = sorted(overridden, key=lambda problem: list(input).index(problem.param))
    return CheckedInput(sent, tuple(ordered))


def _is_unset(value: Any) -> bool:
    """Whether ``value`` means "not given" (None, blank text): dropped, as validate() does."""
    return value is None or (isinstance(value, str) and not value.strip())


def _why_unsendable(problem: Problem, input: Mapping[str, Any]) -> str | None:
    """Why ``problem``'s value cannot be sent at all (None: it can, unchecked)."""
    name = problem.param
    if name not in input:
        return "there is no value to send"  # a missing required value, or a bad input dict
    if not isinstance(name, str) or not name:
        return "a parameter name must be a non-empty string"
    if _looks_like_credential(name):
        return "it looks like a credential; give the key as api_key= of mw.Client instead"
    return _not_json(input[name])


def _looks_like_credential(name: str) -> bool:
    normalised = re.sub(r"[^a-z0-9]", "", name.lower())
    return normalised in _CREDENTIALS or normalised.endswith("apikey")


def _not_json(value: Any) -> str | None:
    """Why ``value`` cannot travel in a JSON request body as UTF-8 (None: it can)."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return "it holds text that is not valid Unicode (an unpaired surrogate)"
    except (TypeError, ValueError, RecursionError):
        return "JSON cannot carry it (only text, numbers, true/false, lists and dicts)"
    return None


def _cleaned(spec: ModelSpec, checked: Mapping[str, Any], unchecked: set[str]) -> dict[str, Any]:
    """``checked``'s values cleaned as :meth:`ModelSpec.validate` cleans them.

    Every value here passed the catalog; only required parameters sent ``unchecked`` may now
    be reported missing, and they are not missing: they are sent.
    """
    try:
        return spec.validate(checked)
    except ValidationError as exc:
        if any(problem.param not in unchecked for problem in exc.problems):
            raise
    cleaned: dict[str, Any] = {}
    for name, value in checked.items():
        if _is_unset(value):
            continue
        clean, reason = spec.param(name).check(value)
        if reason is not None:  # cannot happen: validate() found no problem with it
            raise ValidationError(spec.id, [Problem(name, reason, value)])
        cleaned[name] = clean
    return cleaned


# --- announcing -------------------------------------------------------------------------------

#: Set while a run carries out a submit its caller already announced (see :func:`announced`).
_ANNOUNCED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "mountsea_unchecked_announced", default=False
)


@contextlib.contextmanager
def announced() -> Iterator[None]:
    """Within this block (this thread or task only), :func:`warn` stays quiet: the values
    were announced already, where the call was made (``mw.generate``, a comparison)."""
    token = _ANNOUNCED.set(True)
    try:
        yield
    finally:
        _ANNOUNCED.reset(token)


def warn(model: str, checked: CheckedInput | Sequence[str]) -> None:
    """Warn (:class:`UncheckedValueWarning`) once per unchecked value of ``checked``.

    ``checked``: a :class:`CheckedInput`, or the messages themselves. The warning points at
    the first caller outside the package (the user's own line), wherever the check ran.
    """
    if _ANNOUNCED.get():
        return
    messages = checked.messages(model) if isinstance(checked, CheckedInput) else list(checked)
    level = _caller_level()
    for message in messages:
        warnings.warn(message, UncheckedValueWarning, stacklevel=level)


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside the package, seen from :func:`warn`."""
    package = str(Path(__file__).resolve().parent)
    frame = sys._getframe(1)  # warn()
    level = 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
