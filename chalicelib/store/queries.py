"""The records port's named queries, each one index (or primary) partition of the table.

`NamedQueries` turns what a service asks (open tasks, recalls due on a day, a segment's members…) into the
partition, sort-key bound and order that answer it; a backend gives it two primitives, `_find` and
`_find_page`. The DynamoDB repository and the in-memory fake share it, so both answer alike and the key
layout (models.py) is written in this folder only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from chalicelib.domain.campaign_rules import Campaign, CampaignMember
from chalicelib.domain.facts import iso_z
from chalicelib.domain.records import (
    CallTask,
    Clinic,
    ImportJob,
    ImportPart,
    Network,
    Patient,
    Record,
    SegmentEntry,
    SequenceRun,
    TreatmentPlan,
    WaitlistEntry,
)
from chalicelib.store import keys
from chalicelib.store.cursors import decode_cursor, encode_cursor
from chalicelib.store.models import campaign_days_pk, campaign_members_pk, campaigns_pk, patient_campaigns_pk, scoped

R = TypeVar("R", bound=Record)
TASK_LISTS = {"open": "OPEN", "done": "DONE"}


@dataclass(frozen=True)
class Where:
    """One partition of the table or an index (`pk`, `gsi1`…), optionally bounded by sort key."""

    index: str
    partition: str
    prefix: str | None = None
    upto: str | None = None
    newest_first: bool = False


def by_second(at: datetime) -> str:
    """The sort-key bound of everything at or before `at`'s whole second (keys are `<time>#<id>`)."""
    return iso_z(at) + "~"


def by_day(day: date) -> str:
    """The sort-key bound of everything on or before `day` (keys are `<day>#<id>`)."""
    return f"{day.isoformat()}#\uffff"


def task_list(clinic_id: str, status: str) -> Where:
    return Where("gsi1", scoped(clinic_id, TASK_LISTS[status]), newest_first=status != "open")


class NamedQueries(ABC):
    """Every named query of the records port (chalicelib/ports.py) over `_find` and `_find_page`."""

    @abstractmethod
    def _find(self, kind: type[R], where: Where, limit: int | None = None) -> list[R]:
        """Records of `kind` in one partition, in sort-key order (reversed when newest first)."""

    @abstractmethod
    def _find_page(self, kind: type[R], where: Where, limit: int,
                   start: dict[str, Any] | None) -> tuple[list[R], dict[str, Any] | None]:
        """One page of a partition from `start`, and the key to resume after it (None at the end)."""

    @abstractmethod
    def _subject_records(self, partition: str) -> list[Record]:
        """Every record of a subject partition (gsi2), whatever its kind."""

    def clinics(self) -> list[Clinic]:
        return self._find(Clinic, Where("gsi1", "CLINICS"))

    def networks(self) -> list[Network]:
        return self._find(Network, Where("gsi1", "NETWORKS"))

    def subject(self, clinic_id: str, key: str) -> list[Record]:
        return self._subject_records(scoped(clinic_id, key))

    def in_subject(self, record: Record, key: str) -> bool:
        return bool(keys.index_keys(record)["gsi2pk"] == scoped(record.clinic_id, key))

    def open_tasks(self, clinic_id: str, limit: int | None = None) -> list[CallTask]:
        return self._find(CallTask, task_list(clinic_id, "open"), limit)

    def closed_tasks(self, clinic_id: str, limit: int | None = None) -> list[CallTask]:
        return self._find(CallTask, task_list(clinic_id, "done"), limit)

    def task_page(self, clinic_id: str, status: str, limit: int,
                  cursor: str | None = None) -> tuple[list[CallTask], str | None]:
        where = task_list(clinic_id, status)
        found, resume = self._find_page(CallTask, where, limit, decode_cursor(cursor, "gsi1pk", where.partition))
        return found, encode_cursor(resume)

    def starting_runs(self, clinic_id: str, started_by: datetime | None = None) -> list[SequenceRun]:
        upto = by_second(started_by) if started_by else None
        return self._find(SequenceRun, Where("gsi1", scoped(clinic_id, "STARTING"), upto=upto))

    def due_runs(self, clinic_id: str, due_by: datetime | None = None) -> list[SequenceRun]:
        upto = by_second(due_by) if due_by else None
        return self._find(SequenceRun, Where("gsi1", scoped(clinic_id, "RUNNING"), upto=upto))

    def waitlist(self, clinic_id: str) -> list[WaitlistEntry]:
        return self._find(WaitlistEntry, Where("pk", scoped(clinic_id, "WL")))

    def recalls_due(self, clinic_id: str, day: date) -> list[Patient]:
        return self._find(Patient, Where("gsi1", scoped(clinic_id, "RECALL"), upto=by_day(day)))

    def plans_due(self, clinic_id: str, decision: str, decided_by: date) -> list[TreatmentPlan]:
        return self._find(TreatmentPlan, Where("gsi1", scoped(clinic_id, "PLANFU", decision), upto=by_day(decided_by)))

    def dropouts_due(self, clinic_id: str, last_visit_by: date) -> list[SegmentEntry]:
        return self._find(SegmentEntry, Where("gsi2", scoped(clinic_id, "PLANDROP"), upto=by_day(last_visit_by)))

    def birthdays_on(self, clinic_id: str, month_day: str) -> list[Patient]:
        return self._find(Patient, Where("gsi3", scoped(clinic_id, "BDAY", month_day)))

    def segment_members(self, clinic_id: str, segment: str, last_visit_by: date | None = None) -> list[SegmentEntry]:
        upto = by_day(last_visit_by) if last_visit_by else None
        return self._find(SegmentEntry, Where("gsi1", scoped(clinic_id, "SEG", segment), upto=upto))

    def recent_imports(self, clinic_id: str, limit: int) -> list[ImportJob]:
        return self._find(ImportJob, Where("gsi3", scoped(clinic_id, "IMPORTS"), newest_first=True), limit)

    def silent_imports(self, clinic_id: str, silent_since: datetime) -> list[ImportJob]:
        return self._find(ImportJob, Where("gsi1", scoped(clinic_id, "IMPORTING"), upto=by_second(silent_since)))

    def import_parts(self, clinic_id: str, import_id: str) -> list[ImportPart]:
        parts = self._find(ImportPart, Where("pk", scoped(clinic_id, "IMPORT", import_id, "PARTS")))
        return sorted(parts, key=lambda p: int(p.id.rsplit("|", 1)[1]))

    def campaigns(self, clinic_id: str, active_only: bool = False) -> list[Campaign]:
        return self._find(Campaign, Where("gsi1", campaigns_pk(clinic_id), prefix="active#" if active_only else None))

    def campaign_members(self, clinic_id: str, campaign_id: str) -> list[CampaignMember]:
        return self._find(CampaignMember, Where("pk", campaign_members_pk(clinic_id, campaign_id)))

    def opened_on(self, clinic_id: str, campaign_id: str, day: date) -> list[CampaignMember]:
        where = Where("gsi1", campaign_days_pk(clinic_id, campaign_id), prefix=f"{day.isoformat()}#")
        return self._find(CampaignMember, where)

    def patient_campaigns(self, clinic_id: str, patient_id: str) -> list[CampaignMember]:
        return self._find(CampaignMember, Where("gsi2", patient_campaigns_pk(clinic_id, patient_id)))
