"""The app's side of a sequence step (actions queue): call tasks, messages, expiries.

Every step is re-checked right before the contact: the run must still be
wanted (not booked, not lost, appointment still standing), consent must hold
and the frequency cap must allow it. Otherwise the step is skipped, postponed
or the run ends — and the state machine gets its answer either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib import scenarios
from chalicelib.channels import Registry, candidates, provider_key
from chalicelib.channels.http import TemplateMessage
from chalicelib.core import campaign_credit, consent, sequences
from chalicelib.core.compose import compose, notice
from chalicelib.core.runtime import AnswerToken, Context, Runtime
from chalicelib.core.scripts import hint, run_facts
from chalicelib.core.wa_templates import WINDOW as WHATSAPP_WINDOW
from chalicelib.core.work import Notify, StepRequest
from chalicelib.domain.facts import iso_z
from chalicelib.domain.ladder import done
from chalicelib.domain.merge import last_contact
from chalicelib.domain.records import (
    CallTask,
    CallTaskEvent,
    OutboundMessage,
    Patient,
    Plan,
    SequenceRun,
    TaskContext,
)
from chalicelib.domain.run_facts import RunFacts
from chalicelib.domain.windows import add_working_minutes
from chalicelib.engine import offers, voice
from chalicelib.platform.errors import FieldError, InvalidInput, NotFound
from chalicelib.platform.observability import logger
from chalicelib.ports import DeliveryError, Link, sent_of


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    candidates: list[tuple[str, str]]
    subject: str
    text: str
    registry: Registry | None = None  # the clinic's own channels (built while its settings were at hand)
    template: TemplateMessage | None = None  # WhatsApp outside the 24-hour window


@dataclass(frozen=True)
class Delivery:
    channel: str
    to: str
    provider: str
    provider_id: str
    sent_as: str = ""
    cost: Decimal | None = None
    kind: str = "text"
    template: str | None = None
    refusals: tuple[Refusal, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """A channel that did not take the message, in the vendor's words (the ladder went on to the next)."""

    channel: str
    code: str | None
    reason: str


def advance(ctx: Context, run: SequenceRun, plan: Plan, token: str) -> None:
    """Record the run's next step (or its end) and resume the state machine with it."""
    if plan.action == "done":
        sequences.finish(ctx, run, plan.reason or "done")
    else:
        run.plan, run.step, run.attempt = plan, plan.step, plan.attempt
        ctx.save(run)
    ctx.effect(AnswerToken(token, plan.model_dump()))


class StepHandler:
    """Consumes the actions queue.

    Parameters
    ----------
    runtime:
        Units of work and effects.
    channels:
        Builds the channel registry (lazily: HTTP pools and SES client).
    """

    def __init__(self, runtime: Runtime, channels: Callable[..., Registry]) -> None:
        self.rt = runtime
        self._channels = channels  # (clinic_id, settings) -> that clinic's registry

    def handle(self, action: StepRequest | Notify) -> None:
        if isinstance(action, Notify):
            self._notify(action)
        elif action.action == "message":
            self._message(action)
        elif action.action == "offer":
            self.rt.unit(action.run.clinic_id, lambda ctx: offers.offer_step(ctx, action))
        elif action.action == "expired":
            self.rt.unit(action.run.clinic_id, lambda ctx: self._expired(ctx, action))
        else:
            self.rt.unit(action.run.clinic_id, lambda ctx: self._call(ctx, action))

    # ---- shared prelude -------------------------------------------------------------------

    def _prepare(self, ctx: Context, req: StepRequest) -> tuple[SequenceRun, Patient | None] | None:
        """The run and patient if the step should go on; otherwise answer `done` and return None."""
        run = ctx.load(SequenceRun, req.run.run_id)
        if run is None or not run.active:
            ctx.effect(AnswerToken(req.token, done(ctx.now, "not_active").model_dump()))
            return None
        if run.status == "starting":
            run.status = "running"
            ctx.save(run)
        if _behind(req.plan, run.plan):
            # The run moved on while this execution could not hear it (an outcome recorded while a
            # revived execution had not yet handed its step over): catch the execution up.
            ctx.effect(AnswerToken(req.token, run.plan.model_dump()))  # type: ignore[union-attr]
            return None
        patient = ctx.load(Patient, run.patient_id) if run.patient_id else None
        reason = sequences.why_stop(ctx, run)
        if reason:
            sequences.finish(ctx, run, reason)
            ctx.effect(AnswerToken(req.token, done(ctx.now, reason).model_dump()))
            return None
        return run, patient

    def _cap_postpone(self, ctx: Context, req: StepRequest, run: SequenceRun, patient: Patient | None) -> bool:
        if patient is None or not scenarios.get(run.scenario).capped:
            return False
        verdict = consent.within_cap(patient.contacts, ctx.now, ctx.settings.contact_cap)
        if verdict.allowed or verdict.retry_at is None:
            return False
        plan = sequences.ladder_of(ctx, run, patient).postpone(req.plan, verdict.retry_at, "contact_cap")
        advance(ctx, run, plan, req.token)
        return True

    # ---- call steps -------------------------------------------------------------------------

    def _call(self, ctx: Context, req: StepRequest) -> None:
        prepared = self._prepare(ctx, req)
        if prepared is None:
            return
        run, patient = prepared
        refusal = consent.refusal(run.scenario, patient, "call", run.context)
        if refusal:
            sequences.finish(ctx, run, refusal)
            ctx.effect(AnswerToken(req.token, done(ctx.now, refusal).model_dump()))
            return
        if self._cap_postpone(ctx, req, run, patient):
            return
        if sequences.call_number(run, patient) is None and (run.wrong_numbers or (patient and patient.wrong_numbers)):
            # every number of the patient is answered by a stranger: the ladder goes on where it still can
            ctx.note(run.patient_id, ctx.now, "call.skipped", key=f"{run.id}-s{req.plan.step}:skipped",
                     reason="wrong_number", scenario=run.scenario)
            advance(ctx, run, self._past_wrong_number(ctx, run, patient, req.plan), req.token)
            return
        task = self._open_task(ctx, run, req, patient)
        campaign_credit.call_opened(ctx, run, task)  # the contact attempt: credit runs from here
        run.open_task = task.id
        run.plan, run.step, run.attempt = req.plan, req.plan.step, req.plan.attempt
        ctx.save(run)
        if patient is not None and patient.profile is not None:
            patient.contacts = last_contact(patient.contacts, ctx.now)
            ctx.save(patient)

    def _open_task(self, ctx: Context, run: SequenceRun, req: StepRequest, patient: Patient | None) -> CallTask:
        """The call task of this step; a restarted run re-attaches its new token to it."""
        task_id = f"{run.id}-s{req.plan.step}-a{req.plan.attempt}"
        existing = ctx.load(CallTask, task_id)
        if existing is not None:
            existing.token = req.token
            ctx.save(existing)
            return existing
        step = run.steps[req.plan.step]
        scenario = scenarios.get(run.scenario)
        # A missed call is first returned from the line the patient dialled (the number they know).
        called = run.context.line if scenario.returns_on_dialled_line and req.plan.step == 0 else None
        line = called or step.line or "city"
        facts = run_facts(ctx, run, patient)
        sla = scenario.sla(ctx.settings.sla_minutes)
        profile = patient.profile if patient else None
        task = CallTask(
            clinic_id=ctx.clinic_id, id=task_id, scenario=run.scenario, run_id=run.id, step=req.plan.step,
            steps_total=len(run.steps), attempt=req.plan.attempt, patient_id=run.patient_id,
            patient_name=(patient.name if patient else facts.name) or "",
            phone=sequences.call_number(run, patient),
            household=run.context.household or [], line=line,
            line_number=getattr(ctx.settings.lines, line, None),
            preferred_time=profile.preferred_time if profile else None,
            created_at=ctx.now, due_at=ctx.now, overdue_at=add_working_minutes(ctx.now, sla, ctx.calendar),
            token=req.token,
            hint=hint(ctx, scenario.script, patient, facts), subject_key=run.subject_key,
            context=_task_context(facts, sorted(patient.wrong_numbers) if patient else None, run, scenario.column))
        if req.plan.reason == "call_back":
            task.history.append(CallTaskEvent(at=ctx.now, kind="call_back", detail="agreed call back"))
        ctx.save(task)
        ctx.note(run.patient_id, ctx.now, "task.created", key=f"{task.id}:created", task_id=task.id,
                 scenario=run.scenario, line=line, attempt=task.attempt, due_at=iso_z(task.due_at))
        return task

    @staticmethod
    def _past_wrong_number(ctx: Context, run: SequenceRun, patient: Patient | None, plan: Plan) -> Plan:
        """The next step that has an address other than a wrong number, or the end (`unreachable`)."""
        return sequences.ladder_of(ctx, run, patient).after_outcome(
            plan.step, plan.attempt, "wrong_number", ctx.now, reachable=sequences.reachable(run, patient))

    def _expired(self, ctx: Context, req: StepRequest) -> None:
        """Nobody worked the call task in time: close it and move down the ladder."""
        run = ctx.load(SequenceRun, req.run.run_id)
        if run is None or not run.active:
            ctx.effect(AnswerToken(req.token, done(ctx.now, "not_active").model_dump()))
            return
        task = ctx.load(CallTask, run.open_task) if run.open_task else None
        outcome, call_back_at = "no_answer", None
        if task is not None and task.status == "open":
            sequences.close_task(ctx, task, "expired", "expired")
        elif task is not None and task.outcome:
            outcome, call_back_at = task.outcome, task.call_back_at
        run.open_task = None
        patient = ctx.load(Patient, run.patient_id) if run.patient_id else None
        plan = sequences.ladder_of(ctx, run, patient).after_outcome(req.plan.step, req.plan.attempt, outcome,
                                                                   ctx.now, call_back_at)
        advance(ctx, run, plan, req.token)

    # ---- message steps ----------------------------------------------------------------------

    def _message(self, req: StepRequest) -> None:
        outgoing = self.rt.unit(req.run.clinic_id, lambda ctx: self._plan_message(ctx, req))
        if outgoing is None:
            return
        delivery, refusals = self._attempt(outgoing)
        self.rt.unit(req.run.clinic_id, lambda ctx: self._after_message(ctx, req, outgoing, delivery, refusals))

    def _plan_message(self, ctx: Context, req: StepRequest) -> Outgoing | None:
        prepared = self._prepare(ctx, req)
        if prepared is None:
            return None
        run, patient = prepared
        ladder = sequences.ladder_of(ctx, run, patient)
        message_id = f"{run.id}-s{req.plan.step}-a{req.plan.attempt}"
        existing = ctx.load(OutboundMessage, message_id)
        if existing is not None and existing.status != "sending":
            advance(ctx, run, ladder.after_message(req.plan.step, ctx.now), req.token)
            return None
        refusal = consent.refusal(run.scenario, patient, "message", run.context)
        step = run.steps[req.plan.step]
        registry = self._channels(ctx.clinic_id, ctx.settings)
        options = candidates(step.channel, patient, run.phone, registry.available, run.wrong_numbers or ())
        facts = run_facts(ctx, run, patient)
        link = None if refusal else voice.first_message_link(ctx, run, patient, req.plan.step, options)
        template, options = (None, options) if refusal else voice.whatsapp_form(
            ctx, registry, run.scenario, patient, facts, link, options, message_id)
        if refusal or not options:
            why = refusal or "no_channel"
            ctx.note(run.patient_id, ctx.now, "message.skipped", key=f"{message_id}:skipped", reason=why,
                     scenario=run.scenario)
            wrong = not refusal and (run.wrong_numbers or (patient is not None and patient.wrong_numbers))
            advance(ctx, run, self._past_wrong_number(ctx, run, patient, req.plan) if wrong
                    else ladder.after_message(req.plan.step, ctx.now), req.token)
            return None
        if self._cap_postpone(ctx, req, run, patient):
            return None
        scenario = scenarios.get(run.scenario)
        subject, text = compose(scenario.message, scenario.subject, ctx.clinic, patient, options[0][0],
                                **facts.as_template_vars())
        text = voice.with_link(text, link, options[0][0])
        ctx.save(OutboundMessage(clinic_id=ctx.clinic_id, id=message_id, channel=options[0][0], to=options[0][1],
                                 text=text, purpose=run.scenario, patient_id=run.patient_id, run_id=run.id,
                                 sent_at=ctx.now, status="sending"))
        return Outgoing(message_id, options, subject, text, registry, template)

    def _deliver(self, outgoing: Outgoing) -> Delivery | None:
        return self._attempt(outgoing)[0]

    def _attempt(self, outgoing: Outgoing) -> tuple[Delivery | None, tuple[Refusal, ...]]:
        """Try the patient's channels in order until one takes the message (a refusal moves on at once)."""
        registry = outgoing.registry or self._channels("", None)
        refusals: list[Refusal] = []
        for channel, address in outgoing.candidates:
            adapter = registry.get(channel)
            template = outgoing.template if channel == "whatsapp" else None
            try:
                if template is not None and hasattr(adapter, "send_template"):
                    answer = sent_of(adapter.send_template(address, template))
                else:
                    answer = sent_of(adapter.send(address, outgoing.text, outgoing.subject))
            except DeliveryError as exc:
                logger.warning("channel failed", extra={"channel": channel, "error": str(exc)})
                refusals.append(Refusal(channel, exc.code, exc.reason or str(exc)))
                continue
            return Delivery(channel, address, adapter.provider, answer.provider_id,
                            getattr(adapter, "identity", "") or "", answer.cost, answer.kind,
                            template.name if template is not None and answer.kind == "template" else None,
                            tuple(refusals)), tuple(refusals)
        return None, tuple(refusals)

    def _after_message(self, ctx: Context, req: StepRequest, outgoing: Outgoing,
                       delivery: Delivery | None, refusals: tuple[Refusal, ...] = ()) -> None:
        run = ctx.load(SequenceRun, req.run.run_id)
        message = ctx.load(OutboundMessage, outgoing.message_id)
        if message is None or run is None:
            return
        patient = ctx.load(Patient, run.patient_id) if run.patient_id else None
        record_delivery(ctx, message, delivery, patient, refusals=refusals)
        if delivery is not None:
            campaign_credit.message_sent(ctx, run, message.id, delivery.cost)
        if delivery is not None and patient is not None and scenarios.get(run.scenario).awaits_rating \
                and run.visit_id:
            patient.feedback_visit, patient.feedback_asked_at = run.visit_id, ctx.now
            ctx.save(patient)
        if run.active:
            advance(ctx, run, sequences.ladder_of(ctx, run, patient).after_message(req.plan.step, ctx.now),
                    req.token)
        else:
            ctx.effect(AnswerToken(req.token, done(ctx.now, "not_active").model_dump()))

    # ---- one-off notifications -----------------------------------------------------------------

    def _notify(self, note: Notify) -> None:
        outgoing = self.rt.unit(note.clinic_id, lambda ctx: self._plan_notify(ctx, note))
        if outgoing is None:
            return
        delivery, refusals = self._attempt(outgoing)

        def finish(ctx: Context) -> None:
            message = ctx.load(OutboundMessage, outgoing.message_id)
            if message is not None:
                patient = ctx.load(Patient, note.patient_id) if note.patient_id else None
                record_delivery(ctx, message, delivery, patient, count_contact=False, refusals=refusals)

        self.rt.unit(note.clinic_id, finish)

    def _plan_notify(self, ctx: Context, note: Notify) -> Outgoing | None:
        existing = ctx.load(OutboundMessage, note.key)
        if existing is not None and existing.status != "sending":
            return None
        patient = ctx.load(Patient, note.patient_id) if note.patient_id else None
        if patient is not None and patient.is_opted_out and note.purpose != "opted_out":
            return None
        registry = self._channels(ctx.clinic_id, ctx.settings)
        params = _params(note.params)
        avoid, original = set(params.pop("avoid", None) or ()), params.pop("resend_of", None)
        options = [o for o in candidates(note.channel, patient, note.phone, registry.available) if o[0] not in avoid]
        facts = RunFacts.from_params(params)
        template, options = voice.whatsapp_form(ctx, registry, note.purpose, patient, facts, None, options, note.key)
        if not options:
            return None
        earlier = ctx.load(OutboundMessage, original) if original else None
        if earlier is not None:  # the same words, on the next channel (a messenger refused them)
            subject, text = f"{ctx.clinic.name}", earlier.text
        else:
            subject, text = notice(note.purpose, ctx.clinic, patient, options[0][0], **params)
        ctx.save(OutboundMessage(clinic_id=ctx.clinic_id, id=note.key, channel=options[0][0], to=options[0][1],
                                 text=text, purpose=note.purpose, patient_id=note.patient_id, sent_at=ctx.now,
                                 status="sending"))
        return Outgoing(note.key, options, subject, text, registry, template)


    # ---- the desk's replies: the same channels and the same delivery as a step's message ---------

    def reply(self, clinic_id: str, patient_id: str, channel: str, text: str, key: str) -> OutboundMessage:
        """An administrator's answer in the patient's thread, sent as the clinic (CONTRACT §7 «Replies»)."""
        def recorded(ctx: Context, message: OutboundMessage, delivery: Delivery | None) -> None:
            record_delivery(ctx, message, delivery, ctx.load(Patient, patient_id), count_contact=False)

        return self._send_reply(clinic_id, key, lambda ctx: self._plan_reply(ctx, key, patient_id, channel, text),
                                recorded)

    def _send_reply(self, clinic_id: str, key: str, plan: Callable[[Context], Outgoing],
                    recorded: Callable[[Context, OutboundMessage, Delivery | None], None]) -> OutboundMessage:
        """Plan in one unit, deliver outside any, record in another: a retried key finds its message sent."""
        def planned(ctx: Context) -> Outgoing | None:
            existing = ctx.load(OutboundMessage, key)
            if existing is not None and existing.status != "sending":
                return None  # the same reply again (a retried request): sent once
            return plan(ctx)

        outgoing = self.rt.unit(clinic_id, planned)
        delivery = self._deliver(outgoing) if outgoing is not None else None

        def finish(ctx: Context) -> OutboundMessage:
            message = ctx.load(OutboundMessage, key)
            assert message is not None
            if outgoing is not None:
                recorded(ctx, message, delivery)
            return message

        return self.rt.unit(clinic_id, finish)

    def _plan_reply(self, ctx: Context, key: str, patient_id: str, channel: str, text: str) -> Outgoing:
        patient = ctx.load(Patient, patient_id)
        if patient is None:
            raise NotFound(f"no patient {patient_id}")
        registry = self._channels(ctx.clinic_id, ctx.settings)
        options = [o for o in candidates(channel, patient, None, registry.available) if o[0] == channel]
        if not options:
            raise InvalidInput([FieldError("channel", f"the clinic cannot reach this patient by {channel}")])
        template, options = voice.whatsapp_form(ctx, registry, "reply", patient, RunFacts(), None, options, key)
        if not options:  # WhatsApp takes free text only within 24 hours of the patient's last message
            raise InvalidInput([FieldError("channel", "the patient has not written on WhatsApp in the last 24 hours; "
                                                      "WhatsApp takes only an approved template now")])
        ctx.save(OutboundMessage(clinic_id=ctx.clinic_id, id=key, channel=channel, to=options[0][1], text=text,
                                 purpose="reply", patient_id=patient_id, sent_at=ctx.now, status="sending"))
        return Outgoing(key, options, "", text, registry, template)

    def reply_in_chat(self, clinic_id: str, task_id: str, text: str, key: str) -> OutboundMessage:
        """An answer to a chat nobody knows yet (a new inquiry in Telegram or WhatsApp), sent where it came from.

        The thread lives on the conversation task: the reply joins its history like the person's messages."""
        def recorded(ctx: Context, message: OutboundMessage, delivery: Delivery | None) -> None:
            record_delivery(ctx, message, delivery, None, count_contact=False)
            task = ctx.load(CallTask, task_id)
            if task is not None and message.status == "sent":
                task.history.append(CallTaskEvent(at=ctx.now, kind="reply", detail=text[:500]))
                ctx.save(task)

        return self._send_reply(clinic_id, key, lambda ctx: self._plan_chat_reply(ctx, key, task_id, text), recorded)

    def _plan_chat_reply(self, ctx: Context, key: str, task_id: str, text: str) -> Outgoing:
        task = ctx.load(CallTask, task_id)
        if task is None:
            raise NotFound(f"no task {task_id}")
        channel, address = chat_of(task)
        registry = self._channels(ctx.clinic_id, ctx.settings)
        if channel not in registry.available:
            raise InvalidInput([FieldError("task_id", f"the clinic has no {channel} connected to answer this chat")])
        last_heard = max([task.created_at, *(e.at for e in task.history if e.kind == "message")])
        if channel == "whatsapp" and ctx.now - last_heard > WHATSAPP_WINDOW:
            raise InvalidInput([FieldError("task_id", "the person has not written on WhatsApp in the last 24 hours; "
                                                      "WhatsApp takes only an approved template now")])
        ctx.save(OutboundMessage(clinic_id=ctx.clinic_id, id=key, channel=channel, to=address, text=text,
                                 purpose="reply", patient_id=None, sent_at=ctx.now, status="sending"))
        return Outgoing(key, [(channel, address)], "", text, registry, None)


def chat_of(task: CallTask) -> tuple[str, str]:
    """The channel and address a conversation task is answered in (`telegram:<chat>` → the chat id)."""
    channel, address = task.context.channel, task.context.address
    if task.kind != "conversation" or not channel or not address or channel == "call":
        raise InvalidInput([FieldError("task_id", "this task is not a chat: answer the patient in their thread "
                                                  "(POST …/patients/{patient_id}/messages)")])
    return channel, address.removeprefix(f"{channel}:")


def _behind(handed: Plan, recorded: Plan | None) -> bool:
    """The execution hands over a step the run has already left."""
    return recorded is not None and (handed.step, handed.attempt, handed.action) != (
        recorded.step, recorded.attempt, recorded.action)


def _params(raw: dict[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    if isinstance(out.get("at"), str):
        out["at"] = datetime.fromisoformat(out["at"])
    return out


def record_delivery(ctx: Context, message: OutboundMessage, delivery: Delivery | None, patient: Patient | None,
                    count_contact: bool = True, refusals: tuple[Refusal, ...] = ()) -> None:
    """Note a sent (or failed) message on the record, the timeline and the patient's contact log.

    Each channel that refused it first is on the timeline with the vendor's code and reason."""
    for n, refused in enumerate(refusals):
        ctx.note(message.patient_id, ctx.now, "message.refused", key=f"{message.id}:refused{n}",
                 message_id=message.id, channel=refused.channel, code=refused.code, reason=refused.reason,
                 purpose=message.purpose)
    if delivery is not None:
        message.status, message.channel, message.to = "sent", delivery.channel, delivery.to
        message.provider_id = delivery.provider_id
        message.sent_as, message.cost, message.kind = delivery.sent_as or None, delivery.cost, delivery.kind
        message.template = delivery.template
        ctx.work.link(Link(ctx.clinic_id, provider_key(delivery.provider_id), f"OM#{message.id}"))
        ctx.note(message.patient_id, ctx.now, "message.sent", key=f"{message.id}:sent", message_id=message.id,
                 channel=delivery.channel, provider=delivery.provider, purpose=message.purpose, text=message.text,
                 sent_as=delivery.sent_as or None, kind=delivery.kind, template=delivery.template,
                 cost=f"{delivery.cost:.2f}" if delivery.cost is not None else None)
        if count_contact and patient is not None and patient.profile is not None:
            patient.contacts = last_contact(patient.contacts, ctx.now)
            ctx.save(patient)
    else:
        message.status, message.error = "failed", "no channel delivered"
        ctx.note(message.patient_id, ctx.now, "message.failed", key=f"{message.id}:failed", message_id=message.id,
                 purpose=message.purpose)
    message.sent_at = ctx.now
    ctx.save(message)


def _task_context(facts: RunFacts, wrong_numbers: list[str] | None, run: SequenceRun, column: str) -> TaskContext:
    known = facts.as_template_vars()
    out: dict[str, Any] = {"column": column}
    for key in ("doctor_id", "reason", "interest", "service", "done", "total", "calls", "value"):
        if known.get(key) not in (None, ""):
            out[key] = known[key]
    for key in ("at", "last_visit"):
        if key in known:
            out[key] = iso_z(known[key])
    if wrong_numbers:
        out["wrong_numbers"] = wrong_numbers
    if run.lead_id:
        out["lead_id"] = run.lead_id
    if run.appointment_id:
        out["appointment_id"] = run.appointment_id
    return TaskContext.model_validate(out)
