"""``python -m mountsea_widgets batch`` in a real shell process, on the offline simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("MOUNTSEA_API_KEY", "MOUNTSEA_BASE_URL")
        },
        "HOME": str(cwd / "home"),
        "MOUNTSEA_HISTORY_DIR": str(cwd / "history"),
        "MOUNTSEA_SIMULATOR_SPEED": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "mountsea_widgets", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_spec_file_runs_exports_and_running_it_again_sends_nothing(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "set.csv").write_text(
        "text,aspect_ratio\na red cube,1:1\na blue sphere,16:9\n", encoding="utf-8"
    )
    spec = {
        "prompts_file": "prompts/set.csv",
        "column": "text",
        "param_columns": ["aspect_ratio"],
        "models": ["nano-banana"],
        "seeds": [4],
        "batch_id": "shell",
        "export": str(tmp_path / "dataset"),
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec), encoding="utf-8")

    first = _run(["batch", "spec.json", "--quiet"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "batch shell: 0 resumed, 2 to send" in first.stderr
    assert "batch shell · 2 of 2 done" in first.stderr
    lines = (tmp_path / "dataset" / "metadata.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert sorted(row["prompt"] for row in rows) == ["a blue sphere", "a red cube"]
    assert {json.loads(row["input"])["aspect_ratio"] for row in rows} == {"1:1", "16:9"}
    assert all((tmp_path / "dataset" / row["file_name"]).is_file() for row in rows)

    again = _run(["batch", "spec.json"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert "batch shell: 0 resumed, 0 to send" in again.stderr


def test_flags_alone_describe_a_batch_and_a_changed_one_is_refused(tmp_path: Path) -> None:
    flags = [
        "batch",
        "--prompt",
        "a {animal}",
        "--vary",
        "animal=fox,owl",
        "--model",
        "nano-banana",
    ]
    done = _run([*flags, "--batch-id", "zoo", "--quiet"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 of 2 done" in done.stderr
    changed = _run([*flags, "--model", "nano-banana-2", "--batch-id", "zoo"], tmp_path)
    assert changed.returncode == 2
    assert "models: 'nano-banana-2' added" in changed.stderr and "--extend" in changed.stderr
    assert "Traceback" not in changed.stderr


def test_a_bad_prompt_file_is_named_with_its_row_and_nothing_runs(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("a cat\n\na dog\n", encoding="utf-8")
    result = _run(["batch", "--prompts", "p.txt", "--model", "nano-banana"], tmp_path)
    assert result.returncode == 2
    assert "mountsea batch: p.txt, row 2: the prompt is empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "history" / "journal.jsonl").exists()


def test_without_a_sub_command_the_usage_is_shown(tmp_path: Path) -> None:
    result = _run([], tmp_path)
    assert result.returncode == 2
    assert "python -m mountsea_widgets batch" in result.stderr
