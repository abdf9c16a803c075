"""What `make run` prints: both login links, and helper commands that reach this stack's data folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from embedded.__main__ import _banner

DEMO = {"clinic_id": "demo", "webhook_secret": "whsec_x", "admin_token": "cf_adm_x", "manager_token": "cf_man_x"}
LINKS = {"desk": "http://127.0.0.1:8123/desk#code=lc_a", "console": "http://127.0.0.1:8123/console#code=lc_b"}


def _print(state: Path) -> str:
    return _banner("http://127.0.0.1:8123", DEMO, LINKS, state / "local.json", state, 0, 1.0)


def test_the_banner_prints_the_desk_and_console_login_links(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLINICFLOW_STATE", raising=False)
    printed = _print(tmp_path)
    assert "Task desk      http://127.0.0.1:8123/desk#code=lc_a" in printed
    assert "Console        http://127.0.0.1:8123/console#code=lc_b" in printed
    assert " .venv/bin/python -m embedded.login;" in printed and "CLINICFLOW_STATE=" not in printed


def test_with_a_data_folder_every_helper_command_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLINICFLOW_STATE", ".clinicflow-2")
    commands = re.findall(r"(\S*)\s?(?:\.venv/bin/python -m embedded\.\w+|make simulate)", _print(tmp_path))
    assert len(commands) == 4
    assert set(commands) == {"CLINICFLOW_STATE=.clinicflow-2"}
