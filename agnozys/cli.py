"""Flask commands of API.md: ``flask org|user|token|demo|seed|jobs ...``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from . import tenancy
from .extensions import db
from .models import ApiToken, Organization, Role, User

org_cli = AppGroup("org", help="Organizações.")
user_cli = AppGroup("user", help="Usuários da equipe.")
token_cli = AppGroup("token", help="Tokens da API.")
jobs_cli = AppGroup("jobs", help="Tarefas em segundo plano.")


def find_org(name: str) -> Organization:
    org = db.session.execute(
        select(Organization).where(Organization.name == name)
    ).scalar_one_or_none()
    if org is None:
        raise click.ClickException(f"Organização '{name}' não existe.")
    return org


@org_cli.command("create")
@click.argument("name")
@click.option("--timezone", default="America/Sao_Paulo", show_default=True)
def org_create(name: str, timezone: str) -> None:
    """Create an organization."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = name.strip()
    if not name or len(name) > 120:
        raise click.ClickException("Nome inválido (1 a 120 caracteres).")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise click.ClickException(f"Fuso horário desconhecido: {timezone}") from exc
    if db.session.execute(
        select(Organization.id).where(Organization.name == name)
    ).first():
        raise click.ClickException(f"Organização '{name}' já existe.")
    org = Organization(name=name, timezone=timezone)
    db.session.add(org)
    db.session.commit()
    click.echo(f"Organização criada: {org.name} (id {org.id})")


@user_cli.command("create")
@click.argument("email")
@click.option("--org", "org_name", required=True)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default="viewer",
    show_default=True,
)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="")
def user_create(email: str, org_name: str, role: str, password: str, name: str) -> None:
    """Create a staff user."""
    from . import validation

    try:
        clean_email = validation.email(email)
    except validation.Invalid as exc:
        raise click.ClickException(str(exc)) from exc
    if not clean_email:
        raise click.ClickException("Informe o e-mail.")
    if len(password) < 8:
        raise click.ClickException("A senha deve ter pelo menos 8 caracteres.")
    org = find_org(org_name)
    if db.session.execute(
        select(User.id).where(User.email == clean_email.lower())
    ).first():
        raise click.ClickException(f"Já existe um usuário {clean_email}.")
    user = User(
        organization_id=org.id, email=clean_email.lower(), name=name, role=Role(role)
    )
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Usuário criado: {user.email} ({role}) em {org.name}")


@token_cli.command("create")
@click.option("--org", "org_name", required=True)
@click.option("--name", default="cli")
def token_create(org_name: str, name: str) -> None:
    """Create an API token; the token is the last line of output."""
    org = find_org(org_name)
    token, raw = ApiToken.issue(org, name=name)
    db.session.add(token)
    db.session.commit()
    click.echo(f"Token criado para {org.name}. Guarde-o: não será mostrado de novo.")
    click.echo(raw)


@jobs_cli.command("dispatch")
@click.option("--older-than", default=30, show_default=True, help="segundos")
def jobs_dispatch(older_than: int) -> None:
    """Hand over jobs whose commit happened but whose dispatch did not."""
    from datetime import timedelta

    from .jobs import dispatch_pending

    count = dispatch_pending(timedelta(seconds=older_than))
    click.echo(f"{count} tarefa(s) despachada(s).")


billing_cli = AppGroup("billing", help="Assinaturas: emissão de cobranças.")


@billing_cli.command("run")
@click.option("--date", "day", default=None, help="AAAA-MM-DD (padrão: hoje)")
def billing_run(day: str | None) -> None:
    """Issue subscription invoices due by that day, then auto-suspend."""
    from datetime import date

    from .services.subscriptions import run_billing

    if day is not None:
        try:
            date.fromisoformat(day)
        except ValueError as exc:
            raise click.ClickException("Data inválida: use AAAA-MM-DD.") from exc
    result = run_billing(day)
    click.echo(
        f"{result['issued']} cobrança(s) emitida(s), "
        f"{result['suspended']} assinatura(s) suspensa(s)."
    )


def install(app: Flask) -> None:
    for group in (org_cli, user_cli, token_cli, jobs_cli, billing_cli):
        app.cli.add_command(group)
    from . import demo, seed

    demo.install(app)
    seed.install(app)

    @app.shell_context_processor
    def context() -> dict[str, object]:
        return {"db": db, "tenancy": tenancy}
