"""Where each record kind lives in the table (see the layout in models.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import records as r
from chalicelib.domain.ad_spend import AdSpend
from chalicelib.domain.campaign_rules import Campaign, CampaignDay, CampaignMember
from chalicelib.domain.facts import iso_z
from chalicelib.ports import Link
from chalicelib.store.models import (
    campaign_days_pk,
    campaign_members_pk,
    campaigns_pk,
    clinic_pk,
    patient_campaigns_pk,
    scoped,
)

KINDS: dict[str, type[r.Record]] = {
    "clinic": r.Clinic, "patient": r.Patient, "lead": r.Lead, "call": r.Call,
    "appointment": r.Appointment, "visit": r.Visit, "plan": r.TreatmentPlan,
    "task": r.CallTask, "run": r.SequenceRun, "message": r.OutboundMessage,
    "inbound": r.InboundMessage, "waitlist": r.WaitlistEntry, "offer": r.SlotOffer, "network": r.Network,
    "invite": r.TelegramInvite, "connector": r.ConnectorState, "desk_call": r.DeskCall,
    "segment": r.SegmentEntry, "import": r.ImportJob, "import_part": r.ImportPart, "import_chunk": r.ImportChunk,
    "campaign": Campaign, "campaign_member": CampaignMember, "ad_spend": AdSpend, "campaign_day": CampaignDay,
}
KIND_OF: dict[type[r.Record], str] = {cls: name for name, cls in KINDS.items()}
_TAGS: dict[str, tuple[str, str]] = {
    "patient": ("P", "PATIENT"), "lead": ("L", "LEAD"), "call": ("CALL", "CALL"),
    "appointment": ("A", "APPT"), "visit": ("V", "VISIT"), "plan": ("PLAN", "PLAN"),
    "task": ("T", "TASK"), "run": ("R", "RUN"), "message": ("M", "MESSAGE"),
    "inbound": ("IN", "INBOUND"), "offer": ("OFFER", "OFFER"),
    "invite": ("INV", "INVITE"), "connector": ("CONN", "CONNECTOR"), "campaign": ("CAMPAIGN", "CAMPAIGN"),
    "desk_call": ("DCALL", "DESKCALL"),  # a click to call, until the PBX says how it ended
    "ad_spend": ("ADSPEND", "ADSPEND"),  # C#c#ADSPEND#YYYY-MM: one month's spend by source (read by key)
}


def primary_key(kind: type[r.Record], clinic_id: str, record_id: str) -> tuple[str, str]:
    name = KIND_OF[kind]
    if name == "clinic":
        return clinic_pk(clinic_id), "CLINIC"
    if name == "network":
        return f"NETWORK#{record_id}", "NETWORK"
    if name == "waitlist":
        return scoped(clinic_id, "WL"), f"P#{record_id}"
    if name == "segment":  # "<patient>|<segment>": next to the patient
        patient_id, segment = record_id.rsplit("|", 1)
        return scoped(clinic_id, "P", patient_id), f"SEG#{segment}"
    if name == "import":
        return scoped(clinic_id, "IMPORT", record_id), "IMPORT"
    if name in ("import_part", "import_chunk"):  # "<import>|<n>"
        import_id, number = record_id.split("|", 1)
        tag = "PARTS" if name == "import_part" else "CHUNKS"
        return scoped(clinic_id, "IMPORT", import_id, tag), f"{tag[:-1]}#{int(number):05d}"
    if name == "campaign_day":  # "<campaign>|<day>": the day's slots, beside the campaign
        campaign_id, day = record_id.split("|", 1)
        return scoped(clinic_id, "CAMPAIGN", campaign_id), f"DAY#{day}"
    if name == "campaign_member":  # "<campaign>|<patient>": the campaign's patients in one partition
        campaign_id, patient_id = record_id.split("|", 1)
        return campaign_members_pk(clinic_id, campaign_id), f"P#{patient_id}"
    tag, sort = _TAGS[name]
    return scoped(clinic_id, tag, record_id), sort


def subject_key(patient_id: str | None, phone: str | None) -> str:
    """Whom a run or task is about: the patient when known, else the phone number."""
    if patient_id:
        return f"P#{patient_id}"
    return f"PH#{phone or 'unknown'}"


def index_keys(record: r.Record) -> dict[str, Any]:
    """The GSI attributes of a record in its current state (None removes it from an index)."""
    c = record.clinic_id
    keys: dict[str, Any] = {"gsi1pk": None, "gsi1sk": None, "gsi2pk": None, "gsi2sk": None, "gsi3pk": None,
                            "gsi3sk": None}
    match record:
        case r.Clinic():
            keys.update(gsi1pk="CLINICS", gsi1sk=record.id)
        case r.Network():
            keys.update(gsi1pk="NETWORKS", gsi1sk=record.id)
        case r.Patient():
            # In the patient's own subject partition, so the query that reads their subject reads them too.
            keys.update(gsi2pk=scoped(c, "P", record.id), gsi2sk="PATIENT")
            if record.recall_due and record.recall_started_for != record.recall_due:
                keys.update(gsi1pk=scoped(c, "RECALL"), gsi1sk=f"{record.recall_due.isoformat()}#{record.id}")
        case r.ImportJob() if record.status == "running" and record.progress_at is not None:
            # Unfinished imports by their last sign of life: the sweeper's watchdog reads only the silent ones.
            keys.update(gsi1pk=scoped(c, "IMPORTING"), gsi1sk=f"{iso_z(record.progress_at)}#{record.id}")
        case r.SegmentEntry() if record.member:
            keys.update(gsi1pk=scoped(c, "SEG", record.segment), gsi1sk=f"{record.sort}#{record.patient_id}")
        case Campaign():
            keys.update(gsi1pk=campaigns_pk(c), gsi1sk=f"{record.status}#{iso_z(record.created_at)}#{record.id}")
        case CampaignMember():  # runs opened on a clinic day; a patient's campaigns
            keys.update(gsi1pk=campaign_days_pk(c, record.campaign_id),
                        gsi1sk=f"{record.opened_on.isoformat()}#{record.patient_id}",
                        gsi2pk=patient_campaigns_pk(c, record.patient_id), gsi2sk=record.campaign_id)
        case r.Appointment() if record.details is not None:
            keys.update(gsi2pk=scoped(c, "P", record.details.patient_id),
                        gsi2sk=f"A#{iso_z(record.details.starts_at)}#{record.id}")
        case r.Visit() if record.data is not None and record.at is not None:
            keys.update(gsi2pk=scoped(c, "P", record.data.patient_id), gsi2sk=f"V#{iso_z(record.at)}#{record.id}")
        case r.Lead() if record.created_at and len(record.patient_ids) == 1:
            keys.update(gsi2pk=scoped(c, "P", record.patient_ids[0]),
                        gsi2sk=f"L#{iso_z(record.created_at)}#{record.id}")
        case r.Lead() if record.created_at and record.phone and record.reached_at is None:
            # Nobody's or a household's, until answered: with its number's runs, for the call that answers it.
            keys.update(gsi2pk=scoped(c, subject_key(None, record.phone)),
                        gsi2sk=f"L#{iso_z(record.created_at)}#{record.id}")
        case r.Call() if record.missed is not None and record.reached_at is None:
            # A missed call until the caller is reached: with whom it is about, for the call that returns it.
            single = record.patient_ids[0] if len(record.patient_ids) == 1 else None
            keys.update(gsi2pk=scoped(c, subject_key(single, record.missed.phone)),
                        gsi2sk=f"C#{iso_z(record.missed.at)}#{record.id}")
        case r.CallTask():
            if record.status == "open":
                keys.update(gsi1pk=scoped(c, "OPEN"), gsi1sk=f"{iso_z(record.due_at)}#{record.id}",
                            gsi2pk=scoped(c, record.subject_key), gsi2sk=f"T#{record.id}")
            else:
                closed = record.closed_at or record.created_at
                keys.update(gsi1pk=scoped(c, "DONE"), gsi1sk=f"{iso_z(closed)}#{record.id}")
        case r.SequenceRun() if record.active:
            # Running runs sort by their next step's time, so the sweeper reads only the ones due.
            state, since = ("STARTING", iso_z(record.started_at)) if record.status == "starting" else (
                "RUNNING", iso_z(record.plan.at) if record.plan else iso_z(record.started_at))
            keys.update(gsi1pk=scoped(c, state), gsi1sk=f"{since}#{record.id}",
                        gsi2pk=scoped(c, record.subject_key), gsi2sk=f"R#{record.id}")
    keys.update(follow_up_keys(record))
    return keys


def follow_up_keys(record: r.Record) -> dict[str, Any]:
    """Sparse entries of the plan follow-up and birthday planners, kept with the records they index."""
    c = record.clinic_id
    match record:
        case r.TreatmentPlan() if record.decision and record.decision_day and \
                record.decision_stamp != record.followed_up_for:
            return {"gsi1pk": scoped(c, "PLANFU", record.decision),
                    "gsi1sk": f"{record.decision_day.isoformat()}#{record.id}"}
        case r.SegmentEntry() if record.member and record.follow_up:
            return {"gsi2pk": scoped(c, "PLANDROP"), "gsi2sk": f"{record.sort}#{record.patient_id}"}
        case r.Patient() if record.profile is not None and record.profile.birth_date is not None:
            return {"gsi3pk": scoped(c, "BDAY", record.profile.birth_date.strftime("%m-%d")), "gsi3sk": record.id}
    return {}


def link_partition(link: Link) -> str:
    """The partition of a phone's (or handle's) links: one per clinic and phone."""
    return scoped(link.clinic_id, "PH", link.phone)
