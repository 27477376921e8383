"""The README's "Batches" example runs as written, on the offline simulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _batches_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Batches\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the Batches section has a Python example"
    return match.group(1)


def test_the_readme_batches_example_runs_and_says_what_its_comments_say(tmp_path: Path) -> None:
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("MOUNTSEA_API_KEY", "MOUNTSEA_BASE_URL")
        },
        "HOME": str(tmp_path / "home"),
        "MOUNTSEA_HISTORY_DIR": str(tmp_path / "standard-history"),
        "MOUNTSEA_SIMULATOR_SPEED": "200",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", _batches_example()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("<Batch batch animals · ") and "of 8 done" in lines[0]
    assert lines[1] == "batch animals · 8 of 8 done (8, 8)"
    assert lines[2] == "0 0"
    metadata = (tmp_path / "animals-dataset" / "metadata.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in metadata.splitlines()]
    assert len(rows) == 8
    assert {row["prompt"] for row in rows} == {
        "a fox in ink",
        "a owl in ink",
        "a fox in watercolour",
        "a owl in watercolour",
    }
    assert (tmp_path / "demo-history" / "batches" / "animals.json").is_file()
