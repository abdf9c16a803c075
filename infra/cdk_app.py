"""The CDK app: `make deploy` (or `cdk deploy` in this folder) puts ClinicFlow on AWS."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# Synthesising needs a region (Chalice's packager asks botocore for one) but no AWS account.
os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("CDK_DEFAULT_REGION") or "eu-central-1")

import aws_cdk as cdk  # noqa: E402
from clinicflow_stack import ClinicFlowStack  # noqa: E402


def main() -> None:
    outdir = os.environ.get("CDK_OUTDIR") or str(HERE / "cdk.out")  # the CDK CLI passes its own
    app = cdk.App(outdir=outdir)
    context = app.node.try_get_context
    ClinicFlowStack(
        app, context("stack_name") or "clinicflow",
        sender_email=context("sender_email") or "digest@example.com",
        public_url=context("public_url") or "",
        alarm_email=context("alarm_email") or "",
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
                            region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    assembly = app.synth()
    for stack in assembly.stacks:
        print(f"Template: {Path(assembly.directory) / stack.template_file}", file=sys.stderr)


if __name__ == "__main__":
    main()
