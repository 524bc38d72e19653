"""The reminder ladder: the daily sweep, exactly-once sends, steps and pauses.

Jobs run in-process here (no ``REDIS_URL``) and the ``outbox`` notifier
records what was "sent"; ``test_ladder_rq.py`` runs the same flow through
a real Redis and ``rq worker``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from helpers import today
from sqlalchemy import func, select, update

from agnozys import tenancy
from agnozys.extensions import db
from agnozys.models import (
    Customer,
    Event,
    Invoice,
    InvoiceStatus,
    LadderStep,
    Organization,
    OutboxMessage,
    ReminderSend,
)
from agnozys.models.ladder import ReminderStatus
from agnozys.services import ValidationFailed, ladder


def outbox(invoice: Invoice | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if invoice is not None:
        query = query.where(OutboxMessage.invoice_public_id == invoice.public_id)
    with tenancy.unscoped():
        return list(db.session.execute(query).scalars())


def events(invoice: Invoice, type: str) -> list[Event]:
    with tenancy.unscoped():
        return list(
            db.session.execute(
                select(Event).where(Event.invoice_id == invoice.id, Event.type == type)
            ).scalars()
        )


@pytest.fixture
def debtor(org: Organization, make_customer: Callable[..., Customer]) -> Customer:
    return make_customer(
        org, name="Maria Devedora", email="maria@example.com", phone="11987654321"
    )


def test_new_organization_gets_the_default_ladder(org: Organization) -> None:
    with tenancy.scope(org.id):
        steps = ladder.list_steps()
    assert [s.offset_days for s in steps] == [-5, 0, 1, 7, 15]
    assert all(s.send_email and s.send_sms and s.active for s in steps)


def test_sweep_sends_the_step_of_the_day_once_per_channel(
    org: Organization, debtor: Customer, make_invoice: Callable[..., Invoice]
) -> None:
    invoice = make_invoice(org, debtor, amount=15_000, due_in=5, description="Plano")
    make_invoice(org, debtor, due_in=4)  # no step today

    first = ladder.run_ladder()
    second = ladder.run_ladder()

    assert first.claimed == 2 and second.claimed == 0
    messages = outbox()
    assert sorted(m.channel for m in messages) == ["email", "sms"]
    email = next(m for m in messages if m.channel == "email")
    assert email.to == "maria@example.com"
    due = (today(org) + timedelta(days=5)).strftime("%d/%m/%Y")
    assert email.subject == f"Sua cobrança vence em {due}"
    assert "Olá, Maria Devedora! Lembrete: Plano no valor de R$ 150,00" in email.text
    assert f"/pay/{invoice.payment_token}" in email.text
    assert email.html and "<a href=" in email.html
    sms = next(m for m in messages if m.channel == "sms")
    assert sms.to == "11987654321" and sms.html is None
    sent = events(invoice, "reminder.sent")
    assert sorted(e.data["channel"] for e in sent) == ["email", "sms"]
    assert {e.data["step"] for e in sent} == {-5}


def test_amount_in_an_overdue_reminder_includes_late_charges(
    org: Organization, debtor: Customer, make_invoice: Callable[..., Invoice]
) -> None:
    make_invoice(org, debtor, amount=100_000, due_in=-7)

    ladder.run_ladder()

    email = next(m for m in outbox() if m.channel == "email")
    # 2% fine + 1% a month for 7 days: 20,00 + 2,33.
    assert "Valor hoje: R$ 1.022,33" in email.text


def test_paid_canceled_and_paused_invoices_get_nothing(
    org: Organization,
    debtor: Customer,
    make_customer: Callable[..., Customer],
    make_invoice: Callable[..., Invoice],
) -> None:
    make_invoice(org, debtor, due_in=0, status=InvoiceStatus.PAID)
    make_invoice(org, debtor, due_in=0, status=InvoiceStatus.CANCELED)
    make_invoice(org, debtor, due_in=0, reminders_paused=True)
    quiet = make_customer(org, name="Cliente Pausado", reminders_paused=True)
    make_invoice(org, quiet, due_in=0)
    open_invoice = make_invoice(org, debtor, due_in=0)

    ladder.run_ladder()

    assert {m.invoice_public_id for m in outbox()} == {open_invoice.public_id}


def test_customer_without_phone_gets_only_the_email(
    org: Organization,
    make_customer: Callable[..., Customer],
    make_invoice: Callable[..., Invoice],
) -> None:
    customer = make_customer(org, email="so-email@example.com", phone=None)
    make_invoice(org, customer, due_in=0)

    ladder.run_ladder()

    assert [m.channel for m in outbox()] == ["email"]


def test_invoice_paid_after_the_sweep_is_skipped_by_its_job(
    org: Organization, debtor: Customer, make_invoice: Callable[..., Invoice]
) -> None:
    invoice = make_invoice(org, debtor, due_in=0)
    # Claim without handing over, as if the workers were busy.
    with tenancy.unscoped():
        ladder.claim(today(org), today(org), org.timezone)
        invoice.status = InvoiceStatus.PAID
        db.session.commit()

    ladder.run_ladder()

    assert outbox() == []
    with tenancy.unscoped():
        statuses = db.session.execute(select(ReminderSend.status)).scalars().all()
    assert set(statuses) == {ReminderStatus.SKIPPED}


def test_rescheduled_invoice_follows_its_new_date(
    org: Organization, debtor: Customer, make_invoice: Callable[..., Invoice]
) -> None:
    from agnozys.services.negotiation import reschedule_invoice

    moved = make_invoice(org, debtor, due_in=-1)  # +1 step falls today
    with tenancy.scope(org.id):
        reschedule_invoice(
            moved.public_id,
            {"due_date": (today(org) + timedelta(days=5)).isoformat()},
            actor="test",
        )

    ladder.run_ladder()

    sent = events(moved, "reminder.sent")
    assert {e.data["step"] for e in sent} == {-5}


def test_rescheduled_invoice_climbs_the_ladder_again(
    org: Organization, debtor: Customer, make_invoice: Callable[..., Invoice]
) -> None:
    invoice = make_invoice(org, debtor, due_in=0)
    ladder.run_ladder()
    with tenancy.unscoped():
        invoice.due_date = today(org) - timedelta(days=7)  # moved back, say
        db.session.commit()
        invoice.due_date = today(org)
        db.session.commit()

    ladder.run_ladder()

    # Same due date as before: still once.
    assert len(outbox(invoice)) == 2


def test_agreement_parts_follow_their_own_dates(
    org: Organization, debtor: Customer, make_invoice: Callable[..., Invoice]
) -> None:
    from agnozys.services.negotiation import make_agreement

    original = make_invoice(org, debtor, amount=100_000, due_in=-1)
    with tenancy.scope(org.id):
        agreement = make_agreement(
            original.public_id,
            {
                "installments": 2,
                "first_due_date": (today(org) + timedelta(days=5)).isoformat(),
                "interval_days": 30,
            },
            actor="test",
        )
        parts = list(
            db.session.execute(
                select(Invoice)
                .where(Invoice.agreement_id == agreement.id)
                .order_by(Invoice.due_date)
            ).scalars()
        )

    ladder.run_ladder()

    assert {m.invoice_public_id for m in outbox()} == {parts[0].public_id}
    assert events(original, "reminder.sent") == []


def test_catch_up_never_sends_a_burst_of_stale_reminders(
    org: Organization, debtor: Customer, make_invoice: Callable[..., Invoice]
) -> None:
    # Workers were down for the last six days; run each day, oldest first.
    week_late = make_invoice(org, debtor, due_in=-7)  # +1 on day -6, +7 today
    two_late = make_invoice(org, debtor, due_in=-3)  # +1 on day -2, +7 ahead
    soon = make_invoice(org, debtor, due_in=3)  # -5 on day -2, 0 ahead

    for back in range(6, -1, -1):
        ladder.run_ladder(today(org) - timedelta(days=back))

    def steps(invoice: Invoice) -> list[int]:
        return sorted({e.data["step"] for e in events(invoice, "reminder.sent")})

    assert steps(week_late) == [7]
    assert steps(two_late) == [1]
    assert steps(soon) == [-5]
    assert len(outbox()) == 6  # one step, two channels, per invoice


def test_a_future_date_sends_nothing(
    org: Organization, debtor: Customer, make_invoice: Callable[..., Invoice]
) -> None:
    make_invoice(org, debtor, due_in=1)

    result = ladder.run_ladder(today(org) + timedelta(days=1))

    assert result.claimed == 0 and outbox() == []


def test_concurrent_sweeps_send_each_reminder_once(
    app: Flask,
    org: Organization,
    make_customer: Callable[..., Customer],
    make_invoice: Callable[..., Invoice],
) -> None:
    invoices = [
        make_invoice(org, make_customer(org, phone="1199999000" + str(n)), due_in=0)
        for n in range(6)
    ]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def sweep() -> None:
        try:
            with app.app_context():
                barrier.wait()
                ladder.run_ladder()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    messages = outbox()
    assert len(messages) == 2 * len(invoices)
    assert len({(m.invoice_public_id, m.channel) for m in messages}) == len(messages)


def test_a_send_that_died_mid_way_is_resent_once_after_its_lease(
    make_app: Callable[..., Flask],
    org: Organization,
    debtor: Customer,
    make_invoice: Callable[..., Invoice],
) -> None:
    invoice = make_invoice(org, debtor, due_in=0)
    with tenancy.unscoped():
        ladder.claim(today(org), today(org), org.timezone)
        send_ids = db.session.execute(select(ReminderSend.id)).scalars().all()
        # A worker took the e-mail, recorded it in the outbox and died
        # before marking it sent.
        stale = ladder.utcnow() - timedelta(hours=1)
        db.session.execute(
            update(ReminderSend).values(
                status=ReminderStatus.SENDING, claimed_at=stale, next_attempt_at=stale
            )
        )
        db.session.commit()
    from agnozys import plugins
    from agnozys.hookspecs import Message

    plugins.hook().agnozys_send_message(
        message=Message(
            channel="email",
            to="maria@example.com",
            subject="x",
            text="x",
            organization_id=org.id,
            invoice_id=invoice.public_id,
            idempotency_key=f"reminder-{min(send_ids)}",
        )
    )

    result = ladder.run_ladder()

    assert result.recovered == 2
    assert len(outbox(invoice)) == 2
    with tenancy.unscoped():
        statuses = db.session.execute(select(ReminderSend.status)).scalars().all()
    assert set(statuses) == {ReminderStatus.SENT}


def test_a_send_held_by_a_live_worker_is_not_taken_over(
    org: Organization, debtor: Customer, make_invoice: Callable[..., Invoice]
) -> None:
    make_invoice(org, debtor, due_in=0)
    with tenancy.unscoped():
        ladder.claim(today(org), today(org), org.timezone)
        now = ladder.utcnow()
        db.session.execute(
            update(ReminderSend).values(
                status=ReminderStatus.SENDING, claimed_at=now, next_attempt_at=now
            )
        )
        db.session.commit()
        send_id = db.session.execute(select(func.min(ReminderSend.id))).scalar_one()

    assert ladder.run_ladder().recovered == 0
    assert ladder.send_reminder(send_id) == "not-claimable"
    assert outbox() == []


def test_failed_send_is_retried_then_recorded_with_its_reason(
    make_app: Callable[..., Flask],
    org: Organization,
    debtor: Customer,
    make_invoice: Callable[..., Invoice],
) -> None:
    invoice = make_invoice(org, debtor, due_in=0)
    failing = make_app(
        AGNOZYS_NOTIFIERS="smtp",
        AGNOZYS_SMTP_HOST="127.0.0.1",
        AGNOZYS_SMTP_PORT=_closed_port(),
        AGNOZYS_SMTP_SECURITY="none",
        AGNOZYS_SMTP_SENDER="Cobrança <cobranca@aurora.test>",
        AGNOZYS_REMINDER_RETRY_DELAYS="0,0",
    )
    with failing.app_context():
        ladder.run_ladder()
        db.session.remove()

    with tenancy.unscoped():
        sends = {
            s.channel: s for s in db.session.execute(select(ReminderSend)).scalars()
        }
    assert sends["email"].status == ReminderStatus.FAILED
    assert sends["email"].attempts == 3
    failed = {e.data["channel"]: e for e in events(invoice, "reminder.failed")}
    assert set(failed) == {"email", "sms"}
    assert "Connection refused" in failed["email"].data["reason"]
    assert failed["sms"].data["reason"] == "Nenhum notificador configurado para SMS."
    assert events(invoice, "reminder.sent") == []


@pytest.mark.parametrize("breaks", ["render", "template_values"])
def test_one_failure_in_a_batch_does_not_hold_back_the_others(
    make_app: Callable[..., Flask],
    org: Organization,
    make_customer: Callable[..., Customer],
    make_invoice: Callable[..., Invoice],
    monkeypatch: pytest.MonkeyPatch,
    breaks: str,
) -> None:
    names = ["Ana Boa", "Bruno Falha", "Carla Boa"]
    invoices = {
        name: make_invoice(
            org,
            make_customer(
                org, name=name, email=f"{name[:3].lower()}@example.com", phone=None
            ),
            due_in=0,
        )
        for name in names
    }
    # Rendering fails for one customer, or reading its invoice does.
    render = ladder.ladder_templates.render
    read = ladder.template_values

    def flaky_render(subject: str, body: str, values: dict[str, str]) -> Any:
        if values["cliente"] == "Bruno Falha":
            raise RuntimeError("modelo quebrado para este cliente")
        return render(subject, body, values)

    def flaky_read(invoice: Invoice, today: date | None = None) -> dict[str, str]:
        if invoice.customer.name == "Bruno Falha":
            raise RuntimeError("modelo quebrado para este cliente")
        return read(invoice, today)

    if breaks == "render":
        monkeypatch.setattr(ladder.ladder_templates, "render", flaky_render)
    else:
        monkeypatch.setattr(ladder, "template_values", flaky_read)
    batched = make_app(AGNOZYS_REMINDER_BATCH=10, AGNOZYS_REMINDER_RETRY_DELAYS="600")
    with batched.app_context():
        ladder.run_ladder()
        db.session.remove()

    for name in ("Ana Boa", "Carla Boa"):
        assert [m.to for m in outbox(invoices[name])] == [
            f"{name[:3].lower()}@example.com"
        ]
        assert len(events(invoices[name], "reminder.sent")) == 1
    failing = invoices["Bruno Falha"]
    assert outbox(failing) == []
    assert events(failing, "reminder.sent") == []
    with tenancy.unscoped():
        send = db.session.execute(
            select(ReminderSend).where(ReminderSend.invoice_id == failing.id)
        ).scalar_one()
    assert send.status == ReminderStatus.QUEUED
    assert send.attempts == 1
    assert send.last_error == "modelo quebrado para este cliente"


def test_a_batch_out_of_time_hands_the_rest_to_a_new_job_without_using_attempts(
    make_app: Callable[..., Flask],
    org: Organization,
    make_customer: Callable[..., Customer],
    make_invoice: Callable[..., Invoice],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invoices = [
        make_invoice(
            org,
            make_customer(org, name=f"Cliente {n}", email=f"c{n}@example.com"),
            due_in=0,
        )
        for n in range(3)
    ]
    batches: list[list[int]] = []
    real = ladder.send_reminders

    def counted(send_ids: list[int]) -> dict[int, str]:
        batches.append(list(send_ids))
        return real(send_ids)

    monkeypatch.setattr(ladder, "send_reminders", counted)
    # Every job is "out of time" after its first message.
    monkeypatch.setattr(ladder, "BATCH_SECONDS", -1)
    with make_app(AGNOZYS_REMINDER_BATCH=10).app_context():
        ladder.run_ladder()
        db.session.remove()

    assert [len(batch) for batch in batches] == [3, 2, 1]
    for invoice in invoices:
        assert len(outbox(invoice)) == 1
        [sent] = events(invoice, "reminder.sent")
        assert sent.data["attempts"] == 1
    with tenancy.unscoped():
        rows = db.session.execute(select(ReminderSend)).scalars().all()
    assert {(r.status, r.attempts) for r in rows} == {(ReminderStatus.SENT, 1)}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AGNOZYS_REMINDER_BATCH", "cem", "'cem' não é um número inteiro"),
        ("AGNOZYS_REMINDER_BATCH", "0", "0 é menor que o mínimo, 1"),
        ("AGNOZYS_REMINDER_LEASE_SECONDS", "-5", "-5 é menor que o mínimo, 0"),
        ("AGNOZYS_REMINDER_RETRY_DELAYS", "60,5min", "'5min' não é um número"),
    ],
)
def test_bad_reminder_settings_stop_start_up_naming_the_setting(
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    message: str,
) -> None:
    from agnozys.config import ConfigError

    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name) as raised:
        make_app()
    assert message in str(raised.value)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- steps ----------------------------------------------------------------


STEP = {
    "offset_days": "3",
    "send_email": "on",
    "subject": "Três dias de atraso",
    "body": "Olá, {{ cliente }}: {{ valor }} até {{ vencimento }}. {{ link }}",
}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"body": "Olá {{ nome }}"}, "body", "Campo desconhecido: {{ nome }}"),
        (
            {"body": "{{ cliente.__class__.__mro__ }}"},
            "body",
            "Expressões e comandos do Jinja não são permitidos",
        ),
        (
            {"subject": "{{ ''.__class__ }}"},
            "subject",
            "Expressões e comandos do Jinja não são permitidos",
        ),
        (
            {"body": "{% for x in range(9) %}{% endfor %}"},
            "body",
            "não são permitidos",
        ),
        ({"body": "{{ cliente|attr('x') }}"}, "body", "Filtro não permitido: attr"),
        ({"body": "Olá {{ cliente"}, "body", "Modelo inválido na linha 1"),
        ({"offset_days": "121"}, "offset_days", "O dia deve ficar entre -60 e 120."),
        ({"offset_days": "sete"}, "offset_days", "Informe o dia da etapa"),
        ({"offset_days": "7"}, "offset_days", "Já existe uma etapa em 7 dia(s) após"),
        ({"send_email": ""}, "channels", "Escolha ao menos um canal"),
        ({"subject": ""}, "subject", "Informe o assunto do e-mail."),
        ({"body": ""}, "body", "Escreva a mensagem."),
    ],
)
def test_bad_steps_are_refused_with_a_clear_message(
    org: Organization, change: dict[str, Any], field: str, message: str
) -> None:
    with tenancy.scope(org.id):
        with pytest.raises(ValidationFailed) as caught:
            ladder.save_step({**STEP, **change}, organization_id=org.id)
        assert message in caught.value.fields[field]
        assert len(ladder.list_steps()) == 5


def test_a_saved_step_sends_on_its_day(
    org: Organization, debtor: Customer, make_invoice: Callable[..., Invoice]
) -> None:
    with tenancy.scope(org.id):
        ladder.save_step(STEP, organization_id=org.id)
    make_invoice(org, debtor, amount=5_000, due_in=-3)

    ladder.run_ladder()

    (message,) = outbox()
    assert message.channel == "email" and message.subject == "Três dias de atraso"
    assert message.text.startswith("Olá, Maria Devedora: R$ 51,05 até ")


def test_inactive_step_sends_nothing(
    org: Organization, debtor: Customer, make_invoice: Callable[..., Invoice]
) -> None:
    with tenancy.unscoped():
        db.session.execute(
            update(LadderStep).where(LadderStep.offset_days == 0).values(active=False)
        )
        db.session.commit()
    make_invoice(org, debtor, due_in=0)

    ladder.run_ladder()

    assert outbox() == []


def test_one_organizations_ladder_never_touches_another(
    org: Organization,
    other_org: Organization,
    debtor: Customer,
    make_invoice: Callable[..., Invoice],
) -> None:
    with tenancy.scope(other_org.id):
        ladder.save_step(STEP, organization_id=other_org.id)
        assert len(ladder.list_steps()) == 6
    with tenancy.scope(org.id):
        assert len(ladder.list_steps()) == 5
    make_invoice(org, debtor, due_in=-3)

    ladder.run_ladder()

    assert outbox() == []


def test_cli_runs_the_ladder_for_a_date(
    runner: Any,
    org: Organization,
    debtor: Customer,
    make_invoice: Callable[..., Invoice],
) -> None:
    make_invoice(org, debtor, due_in=-2)  # its +1 step was yesterday
    day = today(org) - timedelta(days=1)

    result = runner.invoke(args=["dunning", "run", "--date", day.isoformat()])

    assert result.exit_code == 0, result.output
    assert "2 lembrete(s)" in result.output
    assert len(outbox()) == 2


def test_cli_refuses_a_bad_date(runner: Any, org: Organization) -> None:
    result = runner.invoke(args=["dunning", "run", "--date", "31/12/2026"])

    assert result.exit_code != 0
    assert "AAAA-MM-DD" in result.output


def test_past_day_is_a_plain_date(org: Organization) -> None:
    assert isinstance(ladder.run_ladder(date(2020, 1, 1)).day, date)


# --- pages ----------------------------------------------------------------


def test_ladder_page_shows_the_steps_as_a_timeline(staff: Any) -> None:
    page = staff.get("/configuracoes/regua")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Régua de cobrança" in html
    for label in (
        "5 dia(s) antes do vencimento",
        "No dia do vencimento",
        "1 dia(s) após o vencimento",
        "7 dia(s) após o vencimento",
        "15 dia(s) após o vencimento",
    ):
        assert label in html
    assert html.count('data-testid="ladder-step"') == 5


def test_step_form_previews_a_real_invoice(
    staff: Any,
    org: Organization,
    debtor: Customer,
    make_invoice: Callable[..., Invoice],
) -> None:
    invoice = make_invoice(org, debtor, amount=12_345, description="Matrícula")
    with tenancy.scope(org.id):
        step = next(s for s in ladder.list_steps() if s.offset_days == 0)

    page = staff.get(
        f"/configuracoes/regua/etapas/{step.id}", headers={"HX-Request": "true"}
    )

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"para a cobrança nº {invoice.number} de Maria Devedora" in html
    assert "Matrícula no valor de R$ 123,45" in html
    assert "<html" not in html  # the fragment only


def test_preview_refreshes_while_typing_and_explains_bad_templates(
    staff: Any,
    org: Organization,
    debtor: Customer,
    make_invoice: Callable[..., Invoice],
) -> None:
    make_invoice(org, debtor, amount=10_000)
    htmx = {"HX-Request": "true"}

    good = staff.post(
        "/configuracoes/regua/previa",
        data={"subject": "Oi {{ cliente|upper }}", "body": "Devido: {{ valor }}"},
        headers=htmx,
    )
    bad = staff.post(
        "/configuracoes/regua/previa",
        data={"subject": "x", "body": "{{ cliente.__init__.__globals__ }}"},
        headers=htmx,
    )

    assert "Oi MARIA DEVEDORA" in good.get_data(as_text=True)
    assert "Devido: R$ 100,00" in good.get_data(as_text=True)
    assert "não são permitidos" in bad.get_data(as_text=True)


def test_editing_a_step_without_javascript(staff: Any, org: Organization) -> None:
    with tenancy.scope(org.id):
        step = next(s for s in ladder.list_steps() if s.offset_days == 7)

    saved = staff.post(
        f"/configuracoes/regua/etapas/{step.id}",
        data={**STEP, "offset_days": "8", "active": "on", "send_sms": "on"},
    )

    assert saved.status_code == 302
    page = staff.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Etapa salva." in page
    assert "8 dia(s) após o vencimento" in page
    assert "7 dia(s) após o vencimento" not in page


def test_saving_a_bad_step_shows_the_problem_beside_the_field(
    staff: Any, org: Organization
) -> None:
    refused = staff.post(
        "/configuracoes/regua/etapas/nova",
        data={**STEP, "body": "Olá {{ config }}"},
    )
    htmx = staff.post(
        "/configuracoes/regua/etapas/nova",
        data={**STEP, "offset_days": "0"},
        headers={"HX-Request": "true"},
    )

    assert refused.status_code == 422
    assert "Campo desconhecido: {{ config }}" in refused.get_data(as_text=True)
    assert htmx.status_code == 200 and htmx.headers["HX-Retarget"] == "#etapa-nova"
    assert "Já existe uma etapa em no dia do vencimento." in htmx.get_data(as_text=True)
    with tenancy.scope(org.id):
        assert len(ladder.list_steps()) == 5


def test_creating_and_removing_a_step_with_htmx(staff: Any, org: Organization) -> None:
    created = staff.post(
        "/configuracoes/regua/etapas/nova", data=STEP, headers={"HX-Request": "true"}
    )
    assert "Etapa criada." in created.get_data(as_text=True)
    assert "3 dia(s) após o vencimento" in created.get_data(as_text=True)
    with tenancy.scope(org.id):
        step = next(s for s in ladder.list_steps() if s.offset_days == 3)

    removed = staff.post(
        f"/configuracoes/regua/etapas/{step.id}/remover", headers={"HX-Request": "true"}
    )

    assert "3 dia(s) após o vencimento" not in removed.get_data(as_text=True)


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_only_admins_change_the_ladder(
    client: Any, auth: Any, org: Organization, role: str, request: Any
) -> None:
    user = request.getfixturevalue(role)
    auth.login(user)

    assert client.get("/configuracoes/regua").status_code == 200
    assert client.post("/configuracoes/regua/etapas/nova", data=STEP).status_code == 403


def test_staff_pause_and_resume_one_invoice(
    staff: Any,
    org: Organization,
    debtor: Customer,
    make_invoice: Callable[..., Invoice],
) -> None:
    invoice = make_invoice(org, debtor, due_in=0)

    paused = staff.post(
        f"/cobrancas/{invoice.public_id}/lembretes",
        data={"paused": "1"},
        headers={"HX-Request": "true"},
    )
    ladder.run_ladder()

    assert "Pausados" in paused.get_data(as_text=True)
    assert "Retomar lembretes" in paused.get_data(as_text=True)
    assert outbox() == []
    assert [e.actor for e in events(invoice, "reminders.paused")] == [
        "user:dona@aurora.test"
    ]

    resumed = staff.post(
        f"/cobrancas/{invoice.public_id}/lembretes", data={"paused": "0"}
    )
    ladder.run_ladder()

    assert resumed.status_code == 302
    assert len(outbox(invoice)) == 2


def test_staff_pause_one_customer(
    staff: Any,
    org: Organization,
    debtor: Customer,
    make_invoice: Callable[..., Invoice],
) -> None:
    make_invoice(org, debtor, due_in=0)
    make_invoice(org, debtor, due_in=-1)

    answer = staff.post(
        f"/clientes/{debtor.public_id}/lembretes",
        data={"paused": "1"},
        headers={"HX-Request": "true"},
    )
    ladder.run_ladder()

    assert "Lembretes pausados para todas as cobranças do cliente." in answer.get_data(
        as_text=True
    )
    assert outbox() == []


def test_viewers_cannot_pause(
    client: Any,
    auth: Any,
    viewer: Any,
    org: Organization,
    debtor: Customer,
    make_invoice: Callable[..., Invoice],
) -> None:
    invoice = make_invoice(org, debtor)
    auth.login(viewer)

    answer = client.post(
        f"/cobrancas/{invoice.public_id}/lembretes", data={"paused": "1"}
    )

    assert answer.status_code == 403


def test_another_organizations_invoice_cannot_be_paused(
    staff: Any,
    other_org: Organization,
    make_customer: Callable[..., Customer],
    make_invoice: Callable[..., Invoice],
) -> None:
    foreign = make_invoice(other_org, make_customer(other_org))

    answer = staff.post(
        f"/cobrancas/{foreign.public_id}/lembretes", data={"paused": "1"}
    )

    assert answer.status_code == 404
    with tenancy.unscoped():
        db.session.refresh(foreign)
    assert foreign.reminders_paused is False


def test_outbox_page_lists_what_was_sent(
    staff: Any,
    org: Organization,
    debtor: Customer,
    make_invoice: Callable[..., Invoice],
) -> None:
    make_invoice(org, debtor, due_in=5, description="Plano anual")
    ladder.run_ladder()

    page = staff.get("/caixa-de-saida").get_data(as_text=True)
    sms_only = staff.get(
        "/caixa-de-saida?canal=sms", headers={"HX-Request": "true"}
    ).get_data(as_text=True)

    assert page.count('data-testid="outbox-message"') == 2
    assert "maria@example.com" in page and "Sua cobrança vence em" in page
    assert sms_only.count('data-testid="outbox-message"') == 1
    assert "11987654321" in sms_only and "maria@example.com" not in sms_only


def test_outbox_shows_only_the_organizations_own_messages(
    staff: Any,
    other_org: Organization,
    make_customer: Callable[..., Customer],
    make_invoice: Callable[..., Invoice],
) -> None:
    make_invoice(
        other_org, make_customer(other_org, email="x@concorrente.test"), due_in=0
    )
    ladder.run_ladder()

    page = staff.get("/caixa-de-saida").get_data(as_text=True)

    assert len(outbox()) == 1
    assert "x@concorrente.test" not in page


def test_invoice_and_customer_pages_offer_the_pause_button(staff, org, overdue_invoice):
    invoice_page = staff.get(f"/cobrancas/{overdue_invoice.public_id}")
    customer_page = staff.get(f"/clientes/{overdue_invoice.customer.public_id}")
    for page, target in (
        (invoice_page, f"reminders-{overdue_invoice.public_id}"),
        (customer_page, f"reminders-{overdue_invoice.customer.public_id}"),
    ):
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert f'id="{target}"' in html
        assert "Lembretes automáticos" in html
