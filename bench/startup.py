"""(4) The Lambda deployment package as `make deploy` builds it, and the cold `import app` from it."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
# What Lambda's environment holds at import: the stage's variables (.chalice/config.json) and a region.
LAMBDA_ENV = {"AWS_DEFAULT_REGION": "eu-central-1", "AWS_REGION": "eu-central-1",
              "POWERTOOLS_SERVICE_NAME": "clinicflow", "POWERTOOLS_LOG_LEVEL": "INFO"}
_TIMED = ("import sys, time; sys.path.insert(0, sys.argv[1]); c, w = time.process_time(), time.perf_counter(); "
          "import app; print((time.process_time() - c) * 1000, (time.perf_counter() - w) * 1000)")


def build_package(out: Path) -> Path:
    """The pruned deployment.zip, built by infra/lambda_package.py as the CDK stack builds it."""
    code = ("import sys; from pathlib import Path; sys.path.insert(0, 'infra'); "
            "from lambda_package import build; build(Path(sys.argv[1]), Path(sys.argv[2]))")
    # a subprocess: chalice's packager imports app.py, which this process has imported against moto
    subprocess.run([sys.executable, "-c", code, str(PROJECT), str(out)], cwd=PROJECT, check=True,
                   capture_output=True, env={**os.environ, "AWS_DEFAULT_REGION": "eu-central-1"})
    return out / "deployment.zip"


def package(zipped: Path) -> tuple[int, int]:
    """(zipped, unzipped) bytes."""
    with zipfile.ZipFile(zipped) as archive:
        return zipped.stat().st_size, sum(info.file_size for info in archive.infolist())


def _python(task: Path, code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter that sees the package as Lambda does: the task dir first, no site-packages (-S)."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(task), "PYTHONDONTWRITEBYTECODE": "1", **LAMBDA_ENV}
    return subprocess.run([sys.executable, "-S", *flags, "-c", code, str(task)], cwd=task, env=env,
                          capture_output=True, text=True, check=True)


@dataclass
class ImportTimes:
    cold_cpu: float  # ms, median: the figure held against the target
    cold_wall: float
    warm_cpu: float
    warm_wall: float
    heaviest: list[tuple[str, float]]  # (module app imports, cumulative ms), from -X importtime
    load: tuple[float, float]  # the 1-minute load average before and after


def _median(task: Path, runs: int) -> tuple[float, float]:
    times = [tuple(map(float, _python(task, _TIMED).stdout.split()[-2:])) for _ in range(runs)]
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def import_ms(zipped: Path, runs: int = 7) -> ImportTimes:
    """`import app` from the unpacked package in fresh interpreters, median of `runs`.

    Cold: no bytecode anywhere in the package (as a fresh Lambda zip: every module is compiled);
    the standard library has its bytecode, as Lambda's runtime does. Warm: after compileall.
    CPU time is the figure held against the target: on this shared 2-core machine, wall time
    also counts the time other processes hold the CPUs (both are printed, with the load).
    """
    with tempfile.TemporaryDirectory(prefix="clinicflow-task-") as folder:
        task = Path(folder)
        with zipfile.ZipFile(zipped) as archive:
            archive.extractall(task)
        assert not list(task.rglob("*.pyc")), "the package ships bytecode"
        before = os.getloadavg()[0]
        cold = _median(task, runs)
        heaviest = _heaviest(_python(task, "import sys; sys.path.insert(0, sys.argv[1]); import app",
                                     "-X", "importtime").stderr)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(task)], check=True, capture_output=True)
        warm = _median(task, runs)
    return ImportTimes(*cold, *warm, heaviest, (before, os.getloadavg()[0]))


def _heaviest(importtime: str, top: int = 5) -> list[tuple[str, float]]:
    """The modules `app` imports directly (and app's own body), by cumulative ms, from `-X importtime`."""
    rows: list[tuple[str, float]] = []
    for line in importtime.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)$", line)
        if match and len(match[3]) == 3:  # one level under app
            rows.append((match[4], int(match[2]) / 1000))
    return sorted(rows, key=lambda row: -row[1])[:top]


def largest_packages(zipped: Path, top: int = 6) -> list[tuple[str, int]]:
    """Top-level folders of the zip by zipped bytes."""
    sizes: dict[str, int] = {}
    with zipfile.ZipFile(zipped) as archive:
        for info in archive.infolist():
            name = info.filename.split("/")[0]
            sizes[name] = sizes.get(name, 0) + info.compress_size
    return sorted(sizes.items(), key=lambda kv: -kv[1])[:top]
