"""The Lambda package as `make deploy` builds it: under 20 MB zipped, and still able to do its work."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("lambda_package", PROJECT / "infra" / "lambda_package.py")
assert _spec and _spec.loader
lambda_package = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lambda_package)
BOTOCORE_SERVICES, PACKAGE_LIMIT_BYTES = lambda_package.BOTOCORE_SERVICES, lambda_package.PACKAGE_LIMIT_BYTES

# A cold `chalice package` (after requirements.txt changes) downloads every runtime dependency first.
pytestmark = pytest.mark.timeout(600)
# Who else creates a botocore client in the deployed code (not through chalicelib.handlers.wiring.client).
LIBRARY_CLIENTS = {"dynamodb": "pynamodb", "secretsmanager": "powertools parameters.get_secret"}

# Run by the package's own interpreter view: `python -S` (no site-packages), the package dir first.
# Every client call is stopped just before it would be sent, once botocore has resolved the endpoint
# from the service's rules, serialised the parameters with its model, and signed the request.
CALLS = """
import json, os, sys
sys.path.insert(0, os.getcwd())
import app  # noqa: F401
import boto3, botocore
from botocore.exceptions import UnknownServiceError
from pynamodb.connection import Connection
from chalicelib.handlers import wiring

assert botocore.__file__.startswith(os.getcwd() + "/"), botocore.__file__  # the package's, not the venv's

class Sent(Exception):
    pass

def stop(request, **_):
    raise Sent(request.url)

def call(client, operation, **params):
    client.meta.events.register("before-send", stop)
    try:
        getattr(client, operation)(**params)
    except Sent as sent:
        return str(sent)
    raise AssertionError(operation + " was not stopped")

queue = "https://sqs.eu-central-1.amazonaws.com/123456789012/clinicflow-actions"
machine = "arn:aws:states:eu-central-1:123456789012:stateMachine:clinicflow-sequence"
urls = {
    "sqs": call(wiring.client("sqs"), "send_message", QueueUrl=queue, MessageBody="{}"),
    "stepfunctions": call(wiring.client("stepfunctions"), "start_execution", stateMachineArn=machine,
                          name="run-1", input="{}"),
    "ses": call(wiring.client("ses"), "send_raw_email", RawMessage={"Data": b"Subject: x\\n\\nx"}),
    "dynamodb": call(Connection(region="eu-central-1").client, "get_item", TableName="clinicflow",
                     Key={"pk": {"S": "a"}, "sk": {"S": "b"}}),
    "secretsmanager": call(boto3.session.Session().client("secretsmanager"), "get_secret_value", SecretId="s"),
    "sts": call(boto3.session.Session().client("sts"), "get_caller_identity"),
}
try:
    boto3.session.Session().client("s3")
    pruned = False
except UnknownServiceError:
    pruned = True
print(json.dumps({"urls": urls, "pruned": pruned}))
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    # In a subprocess: chalice's packager imports app.py, which must not stay in this test process.
    build = ("import sys; from pathlib import Path; sys.path.insert(0, 'infra'); from lambda_package import build; "
             "build(Path(sys.argv[1]), Path(sys.argv[2]))")
    result = subprocess.run([sys.executable, "-c", build, str(PROJECT), str(out)], cwd=PROJECT, capture_output=True,
                            text=True, env={**os.environ, "AWS_DEFAULT_REGION": "eu-central-1"}, timeout=500)
    assert result.returncode == 0, result.stderr[-4000:]
    return out / "deployment.zip"


def test_the_package_is_under_20_mb_zipped(package: Path) -> None:
    size = package.stat().st_size
    assert size <= PACKAGE_LIMIT_BYTES, f"{size / 2**20:.1f} MB zipped; the limit is {PACKAGE_LIMIT_BYTES / 2**20} MB"


def test_only_the_service_models_the_code_uses_are_shipped(package: Path) -> None:
    names = zipfile.ZipFile(package).namelist()
    shipped = {n.split("/")[2] for n in names if n.startswith("botocore/data/") and n.count("/") > 2}
    assert shipped == set(BOTOCORE_SERVICES)
    deployed = [PROJECT / "app.py", *(PROJECT / "chalicelib").rglob("*.py")]  # the embedded stack is not in it
    created = {name for path in deployed for name in re.findall(r"client\(\s*[\"']([a-z0-9-]+)[\"']", path.read_text())}
    assert created, "the pattern no longer finds the code's clients: update this test"
    assert created | set(LIBRARY_CLIENTS) <= set(BOTOCORE_SERVICES), created - set(BOTOCORE_SERVICES)


def test_the_pruned_package_imports_app_and_makes_the_apps_aws_calls(package: Path, tmp_path: Path) -> None:
    root = tmp_path / "task"  # as /var/task: the zip unpacked, no bytecode
    zipfile.ZipFile(package).extractall(root)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": "eu-central-1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-S", "-c", CALLS], cwd=root, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]  # powertools logs errors to stdout
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["pruned"], "a service the code does not use (s3) is still in the package"
    assert set(report["urls"]) == set(BOTOCORE_SERVICES)
    for service, url in report["urls"].items():
        assert url.startswith("https://") and "amazonaws.com" in url, (service, url)
