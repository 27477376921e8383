"""The simulated hub: tasks, their state over time, validation, faults and counters.

:class:`Hub` knows nothing about sockets. It turns a :class:`Request` into a :class:`Reply`;
the HTTP server (``server.py``) and the in-process httpx transport (``transport.py``) are two thin
doors into the same core, so unit tests and real-HTTP tests exercise identical behaviour.

A task's status is computed from the clock on every poll (no timers): ``pending`` for the first
15% of its duration, ``processing`` until it ends, then its pre-drawn ending (``completed``
unless a ``task_*`` fault chose ``failed``/``timeout``/``cancelled``). Images are drawn by
a small pool of background workers from the moment the task is created, so by the time its
simulated duration ends they are usually ready: the duration, not the drawing, decides when a
task completes. A poll that finds the duration over but a drawing still under way waits for that
drawing before it answers ``completed`` (a completed task's files are always ready to serve).
"""

from __future__ import annotations

import base64
import hmac
import io
import json
import os
import queue
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from .._images import decode_image, parse_data_uri
from ..catalog import Catalog, ModelSpec
from ..catalog import catalog as default_catalog
from ..errors import ImageError, Problem, ValidationError
from .clock import Clock, monotonic
from .credits import CREDITS_PATH, DEFAULT_CREDITS, Account
from .faults import Dice, Faults
from .latency import Latency
from .limits import Limits, TokenBucket, retry_after_text
from .live_models import LAYOUTS, input_schema
from .render import ImagePlan, RenderCache, paint, plan_images

#: The two documented submit answers: ``{"task_id": ...}`` with 200 or ``{"taskId": ...}`` with 201.
SUBMIT_SHAPES = ("task_id", "taskId")

ROUTE_SUBMIT = "POST /hub/v1/image"
ROUTE_TASK = "GET /hub/v1/tasks/{id}"
ROUTE_MODELS = "GET /hub/v1/models"
ROUTE_MODEL = "GET /hub/v1/models/{id}"
ROUTE_FILE = "GET /files/{task_id}/{file}"
ROUTE_CREDITS = "GET /api-user/credits"
ROUTE_OTHER = "other"

_TASK_PATH = re.compile(r"^/hub/v1/tasks/([^/]+)/?$")
_MODEL_PATH = re.compile(r"^/hub/v1/models/([^/]+)/?$")
_FILE_PATH = re.compile(r"^/files/([^/]+)/(\d+)\.([a-z]+)$")

#: Background threads drawing images (Pillow releases the GIL while it works, so each core helps).
RENDER_WORKERS = max(1, min(4, os.cpu_count() or 1))

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    410: "Gone",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
}


@dataclass(frozen=True)
class Request:
    """One HTTP request as the hub sees it. ``headers`` keys are lower-case."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: Scheme and host the client used (image URLs are built on it), without a trailing slash.
    base_url: str = "http://simulator.invalid"


@dataclass
class Reply:
    """What to answer: a status, headers and body, or ``drop`` the connection without answering.

    ``delay`` asks the door to wait that many seconds before answering (the ``slow`` fault).
    """

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Reply:
        """A JSON reply."""
        body = json.dumps(payload).encode("utf-8")
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def error(
        cls, status: int, message: str, *, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> Reply:
        """A NestJS-style error body: ``{"statusCode", "error", "message", ...}``."""
        reason = _REASONS.get(status, "Internal Server Error" if status >= 500 else "Error")
        payload = {"statusCode": status, "error": reason, "message": message, **extra}
        return cls.json(status, payload, headers)


class Stats:
    """Counters of everything the hub saw; safe to read from any thread.

    ``requests`` counts per route (e.g. ``stats.requests["POST /hub/v1/image"]``),
    ``rejections`` counts payloads refused by validation (so a test can prove none reached the
    hub), ``submitted`` counts tasks created, ``in_flight`` is how many tasks are not finished
    right now and ``max_in_flight`` the most there ever were at once. ``faults`` counts each
    injected fault; ``open_requests``/``max_open_requests`` count requests being handled.
    """

    def __init__(self, in_flight: Callable[[], int]) -> None:
        self._lock = threading.Lock()
        self._in_flight = in_flight
        self.requests: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.rejections = 0
        self.unauthorized = 0
        self.submitted = 0
        self.max_in_flight = 0
        self.open_requests = 0
        self.max_open_requests = 0

    @property
    def in_flight(self) -> int:
        """Tasks submitted and not yet finished, now."""
        return self._in_flight()

    def snapshot(self) -> dict[str, Any]:
        """All counters as plain data."""
        with self._lock:
            return {
                "requests": dict(self.requests),
                "faults": dict(self.faults),
                "rejections": self.rejections,
                "unauthorized": self.unauthorized,
                "submitted": self.submitted,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "max_open_requests": self.max_open_requests,
            }

    def __repr__(self) -> str:
        return f"Stats({self.snapshot()})"

    # Mutators used by the hub (one lock, so counts never tear).
    def count_request(self, route: str) -> None:
        with self._lock:
            self.requests[route] += 1
            self.open_requests += 1
            self.max_open_requests = max(self.max_open_requests, self.open_requests)

    def end_request(self) -> None:
        with self._lock:
            self.open_requests -= 1

    def count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def count_fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def count_submit(self) -> None:
        with self._lock:
            self.submitted += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight())


@dataclass
class Task:
    """One simulated task; its status is a function of the clock."""

    id: str
    number: int
    spec: ModelSpec
    input: dict[str, Any]
    created: float
    created_at: str
    duration: float
    ending: str
    plans: list[ImagePlan]
    #: Loads the edit's first input image (None when the simulator cannot see it).
    source: Callable[[], Image.Image | None] | None = None
    fetches: Counter[int] = field(default_factory=Counter)
    #: One event per image drawn in the background, set once it is drawn (or given up).
    drawn: list[threading.Event] = field(default_factory=list)

    @property
    def finishes(self) -> float:
        """Clock time at which the task reaches its ending."""
        return self.created + self.duration


class Hub:
    """The simulated Mountsea hub (see the module docs). Thread-safe.

    ``clock`` is injectable so tests move time by hand; ``seed`` makes the latency jitter
    reproducible; ``faults`` is a :class:`Faults` or its string form; ``prerender`` draws
    images in background workers from the moment a task is created (see the module docs).
    ``catalog`` is what the hub lists and accepts (default: the bundled models; see
    :func:`~.live_models.with_extras`); ``models_layout`` is the layout of each model's
    ``input_schema`` (see :data:`~.live_models.LAYOUTS`) and ``models_error`` an HTTP status
    both model endpoints answer with instead (None: they work).
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        faults: Faults | str | None = None,
        api_key: str | None = None,
        submit_shape: str = "task_id",
        seed: int = 0,
        clock: Clock | None = None,
        catalog: Catalog | None = None,
        prerender: bool = True,
        credits: float = DEFAULT_CREDITS,
        models_layout: str = "json-schema",
        models_error: int | None = None,
        limits: Limits | str | None = None,
    ) -> None:
        if submit_shape not in SUBMIT_SHAPES:
            raise ValueError(f"submit_shape must be one of {SUBMIT_SHAPES}, got {submit_shape!r}")
        if models_layout not in LAYOUTS:
            raise ValueError(f"models_layout must be one of {LAYOUTS}, got {models_layout!r}")
        self.models_layout = models_layout
        self.models_error = models_error
        self.latency = Latency(speed)
        self.faults = Faults.coerce(faults)
        self.limits = Limits.coerce(limits)
        self.submit_shape = submit_shape
        self.seed = seed
        self.clock: Clock = clock or monotonic
        # The bundled models, not mw.catalog itself: a live catalog merged into it in this
        # process must not change what this simulator lists and accepts.
        self.catalog = catalog or Catalog(list(default_catalog.bundled.values()))
        self.renders = RenderCache()
        self._api_key = api_key or None
        #: The credits service's account (``GET /api-user/credits``).
        self.account = Account(credits, api_key)
        self._dice = Dice(self.faults.seed)
        self._tasks: dict[str, Task] = {}
        self._created = 0
        self._lock = threading.Lock()
        self.stats = Stats(self._count_in_flight)
        self._submit_bucket = (
            TokenBucket(self.limits.submit_rate, self.clock) if self.limits.submit_rate else None
        )
        self._poll_bucket = (
            TokenBucket(self.limits.poll_rate, self.clock) if self.limits.poll_rate else None
        )
        self._jobs: queue.SimpleQueue[tuple[Task, int] | None] | None = None
        self._closed = threading.Event()
        if prerender:
            self._jobs = queue.SimpleQueue()
            # Daemon threads: a process may exit with drawings still queued.
            for number in range(RENDER_WORKERS):
                threading.Thread(
                    target=self._render_worker,
                    args=(self._jobs,),
                    name=f"simulator-render-{number}",
                    daemon=True,
                ).start()

    def __repr__(self) -> str:
        faults = self.faults.describe() or "none"
        return f"Hub(speed={self.latency.speed:g}, faults={faults}, tasks={len(self._tasks)})"

    @property
    def speed(self) -> float:
        """How many times faster than realistic the tasks run."""
        return self.latency.speed

    def close(self) -> None:
        """Stop the background drawing (images still queued are drawn when first served)."""
        self._closed.set()
        if self._jobs is not None:
            for _ in range(RENDER_WORKERS):
                self._jobs.put(None)
            self._jobs = None

    # --- public helpers for tests and tools ------------------------------------------------------

    def task(self, task_id: str) -> Task:
        """The task with this id (KeyError if unknown)."""
        with self._lock:
            return self._tasks[task_id]

    def status_of(self, task_id: str) -> str:
        """The status the task shows now."""
        return self._status(self.task(task_id), self.clock())

    @property
    def task_ids(self) -> list[str]:
        """Ids of every task created, oldest first."""
        with self._lock:
            return list(self._tasks)

    # --- the door both transports use ------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        """Answer one request (the only entry point of the HTTP server and the transport)."""
        route, match = _route(request)
        self.stats.count_request(route)
        try:
            return self._dispatch(route, match, request)
        finally:
            self.stats.end_request()

    def _dispatch(self, route: str, match: re.Match[str] | None, request: Request) -> Reply:
        if route == ROUTE_OTHER:
            return Reply.error(404, f"no route {request.method} {request.path}")
        if route == ROUTE_FILE:
            assert match is not None
            return self._file(match, request)
        if route == ROUTE_CREDITS:  # its own key header (X-API-Key), checked by the account
            status, body = self.account.answer(request.headers, request.query, self._completed)
            return Reply.json(status, body)
        if not self._authorized(request):
            self.stats.count("unauthorized")
            return Reply.error(
                401, "missing or invalid API key: send the header Authorization: Bearer <key>"
            )
        if route == ROUTE_MODELS:
            return self._models(request)
        if route == ROUTE_MODEL:
            assert match is not None
            return self._model(match.group(1))
        limited = self._over_limit(route)
        if limited is not None:
            return limited
        delay = self._roll_slow()
        reply = self._early_fault(route)
        if reply is None:
            if route == ROUTE_SUBMIT:
                reply = self._submit(request)
            else:
                assert match is not None
                reply = self._poll(match.group(1), request.base_url)
        reply.delay = delay
        return reply

    # --- limits -----------------------------------------------------------------------------

    def _over_limit(self, route: str) -> Reply | None:
        """A 429 (with the wait in ``Retry-After``) when ``route`` is beyond a limit."""
        bucket = self._submit_bucket if route == ROUTE_SUBMIT else self._poll_bucket
        wait = bucket.take() if bucket is not None else 0.0
        kind = "submit_limit" if route == ROUTE_SUBMIT else "poll_limit"
        if not wait and route == ROUTE_SUBMIT and self.limits.max_tasks is not None:
            now = self.clock()
            with self._lock:
                ends = sorted(t.finishes for t in self._tasks.values() if t.finishes > now)
            if len(ends) >= self.limits.max_tasks:
                wait, kind = ends[len(ends) - self.limits.max_tasks] - now, "task_limit"
        if not wait:
            return None
        self.stats.count_fault(kind)
        retry = retry_after_text(wait)
        return Reply.error(
            429,
            f"rate limited ({kind.replace('_', ' ')}); retry after {retry} s",
            headers={"Retry-After": retry},
        )

    # --- faults -----------------------------------------------------------------------------

    def _roll_slow(self) -> float:
        if self._dice.roll("slow", self.faults.slow):
            self.stats.count_fault("slow")
            return self.faults.slow_s
        return 0.0

    def _early_fault(self, route: str) -> Reply | None:
        """Faults decided before the request is processed: nothing has been created."""
        f = self.faults
        if self._dice.roll("drop", f.drop):
            self.stats.count_fault("drop")
            return Reply(0, drop=True)
        if self._dice.roll("rate_limit", f.rate_limit):
            self.stats.count_fault("rate_limit")
            retry = f"{f.retry_after:g}"
            return Reply.error(
                429,
                f"rate limited (simulated); retry after {retry} s",
                headers={"Retry-After": retry},
            )
        kind = "submit_5xx" if route == ROUTE_SUBMIT else "poll_5xx"
        if self._dice.roll(kind, getattr(f, kind)):
            self.stats.count_fault(kind)
            return Reply.error(f.status_5xx, f"simulated server error ({kind})")
        return None

    # --- routes -----------------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        if self._api_key is None:
            return True
        given = request.headers.get("authorization", "")
        expected = f"Bearer {self._api_key}"
        return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))

    def _submit(self, request: Request) -> Reply:
        try:
            payload = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return self._reject(400, "body", "the request body is not valid JSON", "a JSON object")
        if not isinstance(payload, dict):
            return self._reject(
                400,
                "body",
                "the request body must be a JSON object",
                '{"model": ..., "input": {...}}',
            )
        model = payload.get("model")
        if not isinstance(model, str) or not model:
            return self._reject(400, "model", "model is required", ", ".join(self.catalog))
        try:
            spec = self.catalog.spec(model)
        except ValidationError as exc:
            return self._rejection(400, exc)
        raw_input = payload.get("input")
        if not isinstance(raw_input, dict):
            return self._reject(422, "input", "input must be a JSON object", "an object")
        try:
            clean = spec.validate(raw_input)
        except ValidationError as exc:
            return self._rejection(422, exc)
        task = self._create(spec, clean)
        if self._dice.roll("drop_after_submit", self.faults.drop_after_submit):
            self.stats.count_fault("drop_after_submit")
            return Reply(0, drop=True)
        if self.submit_shape == "taskId":
            return Reply.json(201, {"taskId": task.id})
        return Reply.json(
            200,
            {
                "task_id": task.id,
                "status": "pending",
                "capability": "image",
                "model": spec.id,
                "vendor": spec.vendor,
                "mode": spec.mode,
                "created_at": task.created_at,
            },
        )

    def _reject(self, status: int, param: str, message: str, allowed: str) -> Reply:
        return self._rejection(
            status, ValidationError("request", [Problem(param, message, None, allowed)])
        )

    def _rejection(self, status: int, exc: ValidationError) -> Reply:
        self.stats.count("rejections")
        problems = [
            {"param": p.param, "message": p.message, "allowed": p.allowed} for p in exc.problems
        ]
        text = "; ".join(f"{p.param}: {p.message}" for p in exc.problems)
        return Reply.error(status, f"invalid input for {exc.model}: {text}", problems=problems)

    def _create(self, spec: ModelSpec, clean: dict[str, Any]) -> Task:
        now = self.clock()
        with self._lock:
            number = self._created
            self._created += 1
        ending = self._ending()
        source_size, source = self._source(clean)
        task = Task(
            id=f"hub-{uuid.uuid4()}",
            number=number,
            spec=spec,
            input=clean,
            created=now,
            created_at=datetime.now(timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            duration=self.latency.duration(spec.id, f"{self.seed}:{number}"),
            ending=ending,
            plans=plan_images(spec.id, clean, source_size),
            source=source,
        )
        with self._lock:
            self._tasks[task.id] = task
        self.account.price(task.id, spec.id, clean)
        self.stats.count_submit()
        jobs = self._jobs
        if ending == "completed" and jobs is not None:
            task.drawn = [threading.Event() for _ in task.plans]
            for index in range(len(task.plans)):
                jobs.put((task, index))
        return task

    def image_bytes(self, task: Task, index: int) -> bytes:
        """The encoded bytes of image ``index`` of ``task`` (rendered once, then cached).

        A task without a seed (gpt-image-2 has none) is drawn from the hub's seed and the
        task's number: unseeded runs differ, and a hub with the same seed replays them.
        """
        return self.renders.get(
            task.spec.id,
            task.input,
            index,
            plan=task.plans[index],
            source=task.source,
            nonce=self._nonce(task),
        )

    def _nonce(self, task: Task) -> str | None:
        return None if task.input.get("seed") is not None else f"{self.seed}:{task.number}"

    def _picture(self, task: Task, index: int) -> Image.Image:
        """Image ``index`` of ``task`` without its caption and badge: what an edit of that
        result starts from (so an edit of an edit does not stack captions)."""
        plan = task.plans[index]
        source = task.source() if task.source else None
        return paint(
            task.spec.id,
            task.input,
            index,
            plan.width,
            plan.height,
            source,
            nonce=self._nonce(task),
            labelled=False,
        )

    def _source(
        self, clean: Mapping[str, Any]
    ) -> tuple[tuple[int, int] | None, Callable[[], Image.Image | None] | None]:
        """Size and loader of an edit's first input image, when the simulator can see it.

        It can see a data: URI and its own result URLs (so a simulated result can be edited);
        it never fetches anything from the network.
        """
        urls = clean.get("image_urls") or []
        if not urls:
            return None, None
        url = str(urls[0])
        if url[:5].lower() == "data:":
            try:
                data, _ = parse_data_uri(url)
                with Image.open(io.BytesIO(data)) as header:  # reads the header only
                    size = header.size
            except Exception:  # an unreadable source just means "size unknown"
                return None, None
            return size, lambda: _decode_or_none(data)
        match = _FILE_PATH.match(urlsplit(url).path)
        if match is None:
            return None, None
        with self._lock:
            task = self._tasks.get(match.group(1))
        index = int(match.group(2))
        if task is None or task.ending != "completed" or index >= len(task.plans):
            return None, None
        plan = task.plans[index]
        return (plan.width, plan.height), lambda: self._picture(task, index)

    def _ending(self) -> str:
        f = self.faults
        if not (f.task_failed or f.task_timeout or f.task_cancelled):
            return "completed"
        draw = self._dice.unit("task_ending")
        for status, rate in (
            ("failed", f.task_failed),
            ("timeout", f.task_timeout),
            ("cancelled", f.task_cancelled),
        ):
            if draw < rate:
                self.stats.count_fault(f"task_{status}")
                return status
            draw -= rate
        return "completed"

    def _completed(self, task_id: str) -> bool:
        """Whether task ``task_id`` has ended ``completed`` by now (what the account bills)."""
        with self._lock:
            task = self._tasks.get(task_id)
        return task is not None and self._status(task, self.clock()) == "completed"

    def _status(self, task: Task, now: float) -> str:
        phase = self.latency.phase(now, task.created, task.duration)
        return task.ending if phase == "done" else phase

    def _await_drawings(self, task: Task) -> None:
        """Wait for the background drawings of a task whose duration is over (usually done)."""
        for event in task.drawn:
            # A hub closed meanwhile may leave a job undrawn: it is then drawn when served.
            while not event.wait(0.1):
                if self._closed.is_set():
                    return

    def _poll(self, task_id: str, base_url: str) -> Reply:
        try:
            task = self.task(task_id)
        except KeyError:
            return Reply.error(404, f"task {task_id[:80]!r} not found")
        if self._dice.roll("malformed", self.faults.malformed):
            self.stats.count_fault("malformed")
            broken = b'{"task_id": "' + task.id.encode() + b'", "status": "process'
            return Reply(200, broken, {"Content-Type": "application/json"})
        return Reply.json(200, self.task_body(task, base_url))

    def task_body(self, task: Task, base_url: str) -> dict[str, Any]:
        """The JSON the hub serves for ``task`` now; image URLs start with ``base_url``."""
        now = self.clock()
        status = self._status(task, now)
        ready = status not in ("pending", "processing")
        elapsed = min(now - task.created, task.duration) if ready else now - task.created
        body: dict[str, Any] = {
            "task_id": task.id,
            "status": status,
            "ready": ready,
            "capability": "image",
            "model": task.spec.id,
            "vendor": task.spec.vendor,
            "mode": task.spec.mode,
            "created_at": task.created_at,
            "elapsed_ms": round(max(0.0, elapsed) * 1000),
            "simulated": True,
        }
        if status == "completed":
            self._await_drawings(task)
            body["data"] = self._data(task, base_url)
        elif status in ("failed", "timeout", "cancelled"):
            body["error_code"], body["error_message"] = _ERRORS[status]
        return body

    def _data(self, task: Task, base_url: str) -> dict[str, Any]:
        images = []
        inline = bool(task.input.get("sync_mode"))
        for index, plan in enumerate(task.plans):
            name = f"{index}.{plan.extension}"
            if inline:
                encoded = self.image_bytes(task, index)
                url = f"data:{plan.content_type};base64," + base64.b64encode(encoded).decode(
                    "ascii"
                )
            else:
                url = f"{base_url.rstrip('/')}/files/{task.id}/{name}"
            images.append(
                {
                    "url": url,
                    "content_type": plan.content_type,
                    "width": plan.width,
                    "height": plan.height,
                    "file_name": f"{task.id}-{name}",
                }
            )
        data: dict[str, Any] = {"images": images}
        if task.spec.id.startswith("nano-banana"):
            data["description"] = ""
        return data

    def _file(self, match: re.Match[str], request: Request) -> Reply:
        task_id, index, ext = match.group(1), int(match.group(2)), match.group(3)
        try:
            task = self.task(task_id)
        except KeyError:
            return Reply.error(404, "no such file")
        now = self.clock()
        if self._status(task, now) != "completed" or index >= len(task.plans):
            return Reply.error(404, "no such file")
        plan = task.plans[index]
        if ext != plan.extension:
            return Reply.error(404, "no such file")
        with self._lock:
            task.fetches[index] += 1
            fetches = task.fetches[index]
        if fetches <= self.faults.image_404_first:
            self.stats.count_fault("image_404_first")
            return Reply.error(404, "file not available yet (simulated)")
        ttl = self.faults.url_ttl
        if ttl is not None and now - task.finishes > ttl:
            self.stats.count_fault("url_ttl")
            return Reply.error(410, "this URL has expired (simulated url_ttl)")
        data = self.image_bytes(task, index)
        return Reply(
            200,
            data,
            {"Content-Type": plan.content_type, "Cache-Control": "private, max-age=3600"},
        )

    def _models(self, request: Request) -> Reply:
        if self.models_error is not None:
            return Reply.error(self.models_error, "model list unavailable (simulated)")
        capability = request.query.get("capability")
        items = []
        if capability in (None, "", "image"):
            items = [_model_summary(spec) for spec in self.catalog.values()]
        return Reply.json(200, {"data": items, "total": len(items)})

    def _model(self, model_id: str) -> Reply:
        if self.models_error is not None:
            return Reply.error(self.models_error, "model details unavailable (simulated)")
        if model_id not in self.catalog:
            return Reply.error(404, f"model {model_id[:80]!r} not found")
        spec = self.catalog[model_id]
        detail = _model_summary(spec)
        detail["input_schema"] = input_schema(spec, self.models_layout)
        detail["example"] = dict(spec.example_input or _example(spec))
        detail["typical_seconds"] = spec.typical_seconds
        return Reply.json(200, detail)

    # --- background work --------------------------------------------------------------------------

    def _count_in_flight(self) -> int:
        now = self.clock()
        with self._lock:
            return sum(1 for t in self._tasks.values() if t.finishes > now)

    def _render_worker(self, jobs: queue.SimpleQueue[tuple[Task, int] | None]) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            task, index = job
            try:
                if not self._closed.is_set():  # a closed hub draws on demand only
                    self.image_bytes(task, index)
            except Exception:  # a bad render is retried (and reported) when the file is fetched
                pass
            finally:
                task.drawn[index].set()


_ERRORS: dict[str, tuple[str, str]] = {
    "failed": ("SIMULATED_FAILURE", "The simulator failed this task on purpose (task_failed)."),
    "timeout": ("TIMEOUT", "The provider did not finish in time (simulated task_timeout)."),
    "cancelled": ("CANCELLED", "The task was cancelled (simulated task_cancelled)."),
}


def _decode_or_none(data: bytes) -> Image.Image | None:
    try:
        return decode_image(data)
    except ImageError:
        return None


def _route(request: Request) -> tuple[str, re.Match[str] | None]:
    method, path = request.method.upper(), request.path
    if method == "POST" and path.rstrip("/") == "/hub/v1/image":
        return ROUTE_SUBMIT, None
    if method != "GET":
        return ROUTE_OTHER, None
    if path.rstrip("/") == "/hub/v1/models":
        return ROUTE_MODELS, None
    if path.rstrip("/") == CREDITS_PATH:
        return ROUTE_CREDITS, None
    for route, pattern in (
        (ROUTE_TASK, _TASK_PATH),
        (ROUTE_MODEL, _MODEL_PATH),
        (ROUTE_FILE, _FILE_PATH),
    ):
        match = pattern.match(path)
        if match:
            return route, match
    return ROUTE_OTHER, None


def _model_summary(spec: ModelSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "title": spec.title,
        "vendor": spec.vendor,
        "capability": "image",
        "mode": spec.mode,
        "summary": spec.summary,
    }


def _example(spec: ModelSpec) -> dict[str, Any]:
    example: dict[str, Any] = {"prompt": "A lighthouse on a cliff at sunset, watercolor"}
    if spec.is_edit:
        example["image_urls"] = ["https://example.com/photo.png"]
    example.update(spec.defaults())
    return example
