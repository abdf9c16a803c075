"""(4) Cold import time of `app` and the size of the Lambda deployment package."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def import_ms(runs: int = 5) -> tuple[float, float]:
    """(cold, warm) milliseconds to `import app`: cold compiles every module, as a fresh Lambda zip does."""
    def once(cache: str) -> float:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache, "AWS_DEFAULT_REGION": "eu-central-1"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm run must find what the cold run compiled
        result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app"], cwd=PROJECT, env=env,
                                capture_output=True, text=True, check=True)
        line = [row for row in result.stderr.splitlines() if re.search(r"\|\s+app$", row)][-1]
        return int(line.split("|")[1]) / 1000

    colds, warms = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            colds.append(once(cache))
            warms.append(once(cache))
    return sorted(colds)[runs // 2], sorted(warms)[runs // 2]


def package() -> tuple[int, int, Path]:
    """(zipped, unzipped) bytes of the Lambda package `chalice package` builds."""
    out = Path(tempfile.mkdtemp(prefix="clinicflow-package-"))
    subprocess.run([str(Path(sys.executable).parent / "chalice"), "package", "--stage", "dev", str(out)],
                   cwd=PROJECT, env={**os.environ, "AWS_DEFAULT_REGION": "eu-central-1"}, check=True,
                   capture_output=True)
    zipped = out / "deployment.zip"
    with zipfile.ZipFile(zipped) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    return zipped.stat().st_size, unzipped, zipped


def largest_packages(zipped: Path, top: int = 6) -> list[tuple[str, int]]:
    sizes: dict[str, int] = {}
    with zipfile.ZipFile(zipped) as archive:
        for info in archive.infolist():
            name = info.filename.split("/")[0]
            sizes[name] = sizes.get(name, 0) + info.file_size
    return sorted(sizes.items(), key=lambda kv: -kv[1])[:top]
