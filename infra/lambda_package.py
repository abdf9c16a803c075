"""The Lambda package carries production code only: no embedded local stack, no unused locales,
no unused AWS service models.

`build` packages the app exactly as `make deploy` does (chalice's `package_app`, then `prune`);
the bench and tests/infra/test_package.py use it; infra/clinicflow_stack.py prunes the package
chalice.cdk builds with the same `prune`.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

PACKAGE_LIMIT_BYTES = 20 * 2**20  # issue 14: the zipped package stays under 20 MB
EXCLUDED_PREFIXES = ("embedded/",)  # the embedded stack and its fixed local operator token
KEPT_LOCALES = ("root", "ru", "en")  # the product's languages (babel's locale data is 28 MB otherwise)
# botocore ships a model for each of ~450 AWS services (15 MB zipped, over half the package); the
# app calls these only. We ship our pinned botocore with just their models rather than rely on the
# Lambda runtime's boto3, whose version AWS changes without notice (AWS advises bundling the SDK).
# A client for a service missing here fails with UnknownServiceError: tests/infra/test_package.py
# checks that every client the code creates is in this list and works from the pruned package.
BOTOCORE_SERVICES = (
    "dynamodb",  # pynamodb (chalicelib/store)
    "sqs",  # chalicelib/platform/aws/sqs.py
    "stepfunctions",  # chalicelib/platform/aws/stepfunctions.py
    "ses",  # chalicelib/channels/email.py
    "secretsmanager",  # powertools parameters.get_secret (chalicelib/platform/aws/secrets.py)
    "sts",  # botocore's assume-role credential providers, should a deployment configure one
)


def kept(name: str) -> bool:
    """Whether a file of the zip belongs in the Lambda package."""
    if name.startswith(EXCLUDED_PREFIXES):
        return False
    if name.startswith("babel/locale-data/") and name.endswith(".dat"):
        locale = name.rsplit("/", 1)[-1].removesuffix(".dat")
        return locale.split("_", 1)[0] in KEPT_LOCALES
    parts = name.split("/")
    if parts[:2] == ["botocore", "data"] and len(parts) > 3:  # data/<service>/...; data/*.json stay
        return parts[2] in BOTOCORE_SERVICES
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


def build(project: Path, out_dir: Path, stage: str = "dev", stage_config: dict[str, Any] | None = None) -> Path:
    """The pruned deployment.zip, built as the CDK stack builds it (needs a region, no account)."""
    from chalice.api import package_app

    package_app(project_dir=str(project), output_dir=str(out_dir), stage=stage, chalice_config=stage_config or {})
    zip_path = out_dir / "deployment.zip"
    prune(zip_path)
    return zip_path

