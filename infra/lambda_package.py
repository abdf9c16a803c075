"""The Lambda package carries production code only: no embedded local stack, no unused locales."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

from chalice.cdk import Chalice

EXCLUDED_PREFIXES = ("chalicelib/local/",)  # the embedded stack and its fixed local operator token
KEPT_LOCALES = ("root", "ru", "en")  # the product's languages (babel's locale data is 28 MB otherwise)


def kept(name: str) -> bool:
    """Whether a file of the zip belongs in the Lambda package."""
    if name.startswith(EXCLUDED_PREFIXES):
        return False
    if name.startswith("babel/locale-data/") and name.endswith(".dat"):
        locale = name.rsplit("/", 1)[-1].removesuffix(".dat")
        return locale.split("_", 1)[0] in KEPT_LOCALES
    return True


def prune(zip_path: Path) -> tuple[int, int]:
    """Rewrite `zip_path` without what `kept` refuses; returns (bytes before, bytes after)."""
    before = zip_path.stat().st_size
    pruned = zip_path.with_suffix(".pruned.zip")
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(pruned, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if kept(info.filename):
                target.writestr(info, source.read(info), compress_type=info.compress_type)
    os.replace(pruned, zip_path)
    return before, zip_path.stat().st_size


class PrunedChalice(Chalice):
    """chalice.cdk.Chalice whose deployment.zip is pruned before CDK turns it into an asset."""

    def _package_app(self) -> Any:
        result = super()._package_app()  # type: ignore[misc]
        before, after = prune(Path(self._sam_package_dir) / "deployment.zip")
        self.package_sizes = (before, after)
        return result
