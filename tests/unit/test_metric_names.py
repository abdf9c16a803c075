"""Every counter the digest and the dashboard read is one the KPI builder writes.

Both sides name counters only through `chalicelib/domain/metrics.py`; these tests read the
code (which names each side uses) and run the builder (what it really writes), so a figure
cannot read a name that nothing writes and silently stay at zero.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from chalicelib.core import kpi
from chalicelib.domain import metrics
from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.counters import plain
from chalicelib.domain.details import LeadDetails
from chalicelib.domain.records import BookingLink, Lead, LeadLoss, OutboundMessage
from chalicelib.domain.windows import ClinicCalendar

ROOT = Path(__file__).resolve().parents[2] / "chalicelib"
KPI = ROOT / "core" / "kpi.py"
DIGEST = ROOT / "console" / "digest" / "__init__.py"
READERS = [ROOT / "console" / "dashboard.py", *sorted((ROOT / "console" / "digest").glob("*.py"))]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.py"))
WRITER_FUNCTIONS = re.compile(r"^(.+_contribution|_load|_refusal|_Builder)$")
KINDS = {name: getattr(metrics, name) for name in ("Metric", "Family", "AdminMetric", "DoctorMetric", "Stage",
                                                   "Dimension")}
HELPERS = {"admin": "Family.ADMIN", "doctor": "Family.DOCTOR", "funnel": "Family.FUNNEL",
           "funnel_prefix": "Family.FUNNEL"}
ROOTS = sorted({value.split("|")[0].split(".")[0] for kind in KINDS.values() for value in kind
                if kind in (metrics.Metric, metrics.Family)})
LITERAL = re.compile(rf"^({'|'.join(map(re.escape, ROOTS))})[.|]")


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> what it is in the metrics module (`Kpi` -> `Metric`, `admin` -> `admin`)."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "chalicelib.domain.metrics":
            out.update({alias.asname or alias.name: alias.name for alias in node.names})
    return out


def _names(nodes: Sequence[ast.AST], aliases: dict[str, str]) -> set[str]:
    """The metric names these nodes use: `Metric.TASKS_DONE`, and `Family.ADMIN` for a call of `admin(...)`."""
    found = set()
    for top in nodes:
        for node in ast.walk(top):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                kind = aliases.get(node.value.id)
                if kind in KINDS:
                    found.add(f"{kind}.{node.attr}")
            elif isinstance(node, ast.Name) and aliases.get(node.id) in HELPERS:
                found.add(HELPERS[aliases[node.id]])
    return found


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _split_kpi() -> tuple[set[str], set[str]]:
    """(written, read) by core/kpi.py: its contribution builders write, the rest (the digest's arithmetic) reads."""
    tree = _parse(KPI)
    aliases = _aliases(tree)
    writers = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef) and WRITER_FUNCTIONS.match(n.name)]
    readers = [n for n in tree.body if n not in writers and not isinstance(n, ast.ImportFrom)]
    return _names(writers, aliases), _names(readers, aliases)


def written() -> set[str]:
    names, _ = _split_kpi()
    for path in SCENARIOS:  # a scenario's metrics(run), added by kpi.run_contribution
        tree = _parse(path)
        names |= _names([tree], _aliases(tree))
    digest = _parse(DIGEST)  # the nightly snapshot of open and overdue tasks
    snapshot = next(n for n in digest.body if isinstance(n, ast.FunctionDef) and n.name == "snapshot")
    kept = {n.id for n in ast.walk(snapshot) if isinstance(n, ast.Name) and n.id.startswith("SNAPSHOT_")}
    constants = [n for n in digest.body if isinstance(n, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id in kept for t in n.targets)]
    return names | _names(constants, _aliases(digest))


def read() -> set[str]:
    _, names = _split_kpi()
    for path in READERS:
        tree = _parse(path)
        names |= _names([tree], _aliases(tree))
    return names


def test_every_name_the_digest_and_dashboard_read_is_written() -> None:
    reads, writes = read(), written()
    assert {"Metric.TASKS_DONE", "Family.ADMIN", "AdminMetric.RESPONSES", "Metric.RECALL_CAME"} <= reads
    assert reads - writes == set()


def test_the_snapshot_names_are_read_and_written() -> None:
    snapshots = {f"Metric.{m.name}" for m in metrics.Metric if m.name.startswith("SNAPSHOT_")}
    assert snapshots <= written() and snapshots <= read()


def test_readers_and_writers_spell_no_metric_name_themselves() -> None:
    """A name written out as a string would bypass the shared names (and this test's check of them)."""
    code: list[tuple[Path, ast.AST]] = [(path, _parse(path)) for path in [KPI, *READERS]]
    for path in SCENARIOS:  # a scenario's metrics functions (its occasions, `recall.due`, are not counters)
        code += [(path, f) for f in ast.walk(_parse(path)) if isinstance(f, ast.FunctionDef)
                 and f.returns is not None and "Metric" in ast.unparse(f.returns)]
    spelt = [f"{path.name}:{node.lineno}: {node.value!r}" for path, top in code for node in ast.walk(top)
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and LITERAL.match(node.value)]
    assert len(code) > len(READERS) + 4 and spelt == []


def test_what_the_builder_writes_is_a_declared_name() -> None:
    """Run the builder: each counter it writes is a `Metric`, or a `Family` followed by labels."""
    calendar = ClinicCalendar.from_settings(ClinicSettings())
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    info = LeadDetails(id="L", channel="call", source="Yandex Direct", admin_id="U-2", interest="implants")
    lead = Lead(clinic_id="c", id="L", created=info, created_at=at, first_response_at=at + timedelta(minutes=4),
                booked=BookingLink(appointment_id="A", at=at + timedelta(days=1)), came_at=at + timedelta(days=3),
                lost=LeadLoss(at=at + timedelta(days=5), stamp="s-1", reason="дорого", code="price"),
                visits={"V-1": Decimal("1500")})
    message = OutboundMessage(clinic_id="c", id="M", channel="sms", to="+79990000000", text="t", purpose="recall",
                              sent_at=at, status="read", cost=Decimal("3.50"))
    out = {**kpi.contribution(lead, calendar), **kpi.contribution(message, calendar)}
    plain_names = {m.value for m in metrics.Metric}
    families = {f.value for f in metrics.Family}
    stray = [name for name in (plain(key.split("|", 1)[1]) for key in out)
             if name not in plain_names and name.split("|", 1)[0] not in families]
    assert len(out) > 20 and stray == []
    assert "2026-11-20|" + metrics.admin("U-2", metrics.AdminMetric.RESPONSES) in {plain(k) for k in out}
    assert "2026-11-20|" + metrics.funnel(metrics.Dimension.SERVICE, "implants", metrics.Stage.CAME) in {
        plain(k) for k in out}
