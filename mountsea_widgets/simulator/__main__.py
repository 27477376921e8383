"""``python -m mountsea_widgets.simulator``: serve the offline hub until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .faults import Faults
from .hub import SUBMIT_SHAPES, Hub
from .live_models import EXTRA_MODEL, EXTRA_VALUE, LAYOUTS, with_extras
from .server import SimulatorServer


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve in the foreground."""
    parser = argparse.ArgumentParser(
        prog="python -m mountsea_widgets.simulator",
        description="Offline simulator of the Mountsea hub image API (127.0.0.1 only).",
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (0 = any free)")
    parser.add_argument("--speed", type=float, default=1.0, help="10 = tasks ten times faster")
    parser.add_argument(
        "--faults",
        default="",
        help='injected faults, e.g. "submit_5xx=0.1,rate_limit=0.05,retry_after=1,seed=7"',
    )
    parser.add_argument(
        "--limits",
        default="",
        help="a provider's limits (429 + Retry-After beyond them), e.g. "
        '"submit_rate=20,poll_rate=100,max_tasks=50"',
    )
    parser.add_argument("--api-key", default=None, help="require Authorization: Bearer <key>")
    parser.add_argument("--submit-shape", choices=SUBMIT_SHAPES, default="task_id")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the latency jitter and of unseeded pictures"
    )
    parser.add_argument(
        "--extras",
        action="store_true",
        help=f"also list and accept the model {EXTRA_MODEL} and {EXTRA_VALUE[0]} "
        f"{EXTRA_VALUE[1]} {EXTRA_VALUE[2]} (to try the live catalog)",
    )
    parser.add_argument(
        "--models-layout",
        choices=LAYOUTS,
        default="json-schema",
        help="layout of each model's input_schema on GET /hub/v1/models/{model}",
    )
    args = parser.parse_args(argv)
    try:
        faults = Faults.parse(args.faults)
        hub = Hub(
            speed=args.speed,
            faults=faults,
            api_key=args.api_key,
            submit_shape=args.submit_shape,
            seed=args.seed,
            catalog=with_extras() if args.extras else None,
            models_layout=args.models_layout,
            limits=args.limits or None,
        )
        server = SimulatorServer(hub, port=args.port)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    print(f"Mountsea hub simulator serving on {server.url}", flush=True)
    print(f"  speed x{args.speed:g}; faults: {faults.describe() or 'none'}", flush=True)
    print(f"  limits: {hub.limits.describe() or 'none'}", flush=True)
    print(f"  try: curl {server.url}/hub/v1/models?capability=image", flush=True)
    print("  press Ctrl-C to stop", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        hub.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
