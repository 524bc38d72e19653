"""``flask seed``: bulk-load realistic synthetic customers and invoices.

Meant for benchmarks and demos, so it is fast rather than polite: rows are
built in Python and written with ``COPY`` on PostgreSQL (executemany batches
elsewhere), bypassing the ORM, the timeline service and the job outbox. Each
invoice gets one ``invoice.created`` event; no charge job is enqueued (a
seeded invoice has no gateway charge). The organization's invoice counter is
bumped first, so seeded numbers never collide with real ones.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click
from flask import Flask
from sqlalchemy import (
    String,
    Table,
    bindparam,
    cast,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection

from . import clock, tenancy, validation
from .extensions import db
from .models import Customer, Event, Invoice, InvoiceStatus, Organization
from .models.base import _ALPHABET, UTCDateTime
from .services.customers import search_key

log = logging.getLogger(__name__)

BATCH = 20_000
# From this many invoices on, PostgreSQL loads rebuild indexes afterwards.
REBUILD_AT = 100_000

FIRST = (
    "Ana Bruno Carla Diego Elisa Fábio Gabriela Heitor Íris João Larissa Marcos "
    "Natália Otávio Paula Rafael Sofia Tiago Vitória Wagner Beatriz Caio Débora "
    "Eduardo Fernanda Gustavo Helena Igor Juliana Kléber Luana Mateus Nicole "
    "Pedro Quitéria Renata Samuel Tânia Ubirajara Valéria Yasmin Zeca Antônio "
    "Francisca Luiz Raimunda Conceição Sebastião Aparecida Benedito Lúcia Célia"
).split()
MIDDLE = (
    "Maria José Aparecida Cristina Henrique Augusto Luiza Eduarda Vitor Clara "
    "Paulo Regina Carlos Helena Miguel Beatriz"
).split()
LAST = (
    "Silva Souza Oliveira Santos Pereira Lima Carvalho Ferreira Rodrigues "
    "Almeida Costa Gomes Martins Araújo Ribeiro Alves Monteiro Mendes Barros "
    "Freitas Barbosa Pinto Moura Cavalcanti Dias Castro Campos Cardoso Teixeira "
    "Nascimento Moreira Rocha Correia Nunes Vieira Batista Fonseca Andrade "
    "Machado Sampaio Brandão Queiroz Tavares Siqueira Assunção Falcão Leão"
).split()
COMPANY = (
    "Comércio Distribuidora Serviços Transportes Alimentos Construtora "
    "Tecnologia Consultoria Papelaria Farmácia Padaria Oficina"
).split()
DESCRIPTIONS = (
    "Mensalidade",
    "Mensalidade escolar",
    "Plano de internet",
    "Aluguel",
    "Consultoria mensal",
    "Manutenção preventiva",
    "Licença de software",
    "Condomínio",
    "Material didático",
    "Honorários contábeis",
    "Plano odontológico",
    "Taxa de matrícula",
)
# Amounts in centavos: a few price points people really charge, plus noise.
PRICES = (4_990, 8_990, 12_990, 19_990, 29_900, 45_000, 89_000, 150_000)
METHODS = ("pix", "boleto", "card")

_B32_TO_ALPHABET = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode()
)


def public_ids(prefix: str, chunk: int = 10_000) -> Iterator[str]:
    """Yield ids shaped like :func:`models.base.public_id` (80 random bits each).

    Base32 turns every 10 random bytes into 16 characters; encoding a chunk
    at a time keeps a million ids to a second or so.
    """
    while True:
        raw = base64.b32encode(secrets.token_bytes(10 * chunk))
        text = raw.translate(_B32_TO_ALPHABET).decode()
        for start in range(0, len(text), 16):
            yield prefix + "_" + text[start : start + 16]


def complete_cnpj(base: str) -> str:
    """Append the two check digits to twelve digits."""
    number = base
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    for size in (12, 13):
        w = weights if size == 12 else [6, *weights]
        rest = sum(int(d) * k for d, k in zip(number, w)) % 11
        number += str(0 if rest < 2 else 11 - rest)
    return number


@dataclass
class SeedResult:
    organization: Organization
    customers: int
    invoices: int
    seconds: float


# --- writing rows ----------------------------------------------------------------


def _column_defaults(
    table: Table, given: Sequence[str]
) -> dict[str, Callable[[], Any]]:
    """Producers for required columns the seeder does not fill itself.

    Other areas add columns to these tables; a NOT NULL one with a Python
    default would otherwise break ``COPY``, which never applies defaults.
    """
    extra: dict[str, Callable[[], Any]] = {}
    for column in table.columns:
        if column.name in given or column.primary_key:
            continue
        if column.nullable or column.server_default is not None:
            continue
        default = column.default
        if default is None:
            raise click.ClickException(
                f"flask seed cannot fill {table.name}.{column.name}: "
                "NOT NULL without a default"
            )
        extra[column.name] = _producer(
            getattr(default, "arg", None), getattr(default, "is_callable", False)
        )
    return extra


def _producer(arg: Any, is_callable: bool) -> Callable[[], Any]:
    if is_callable:
        # SQLAlchemy wraps zero-argument callables to take a context.
        return lambda: arg(None)
    return lambda: arg


def _write(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
) -> int:
    """Write rows (tuples in ``columns`` order); COPY on PostgreSQL."""
    extra = _column_defaults(table, columns)
    names = [*columns, *extra]
    producers = list(extra.values())
    count = 0
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        column_list = ", ".join(f'"{name}"' for name in names)
        with driver.cursor() as cursor:
            with cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy:
                for row in rows:
                    if producers:
                        row = (*row, *(p() for p in producers))
                    copy.write_row(row)
                    count += 1
        return count
    statement = table.insert()
    batch: list[dict[str, Any]] = []
    for row in rows:
        values = dict(zip(columns, row))
        for name, produce in extra.items():
            values[name] = produce()
        batch.append(values)
        if len(batch) >= BATCH:
            conn.execute(statement, batch)
            count += len(batch)
            batch = []
    if batch:
        conn.execute(statement, batch)
        count += len(batch)
    return count


# --- generating rows -------------------------------------------------------------


def _person(rng: random.Random) -> tuple[str, str]:
    """Return a name and a valid CPF or, one time in eight, a company and CNPJ."""
    if rng.random() < 0.125:
        name = f"{rng.choice(LAST)} {rng.choice(COMPANY)} Ltda"
        base = f"{rng.randrange(10**7, 10**8)}0001"
        return name, complete_cnpj(base)
    parts = [rng.choice(FIRST)]
    if rng.random() < 0.4:
        parts.append(rng.choice(MIDDLE))
    parts += [rng.choice(LAST), rng.choice(LAST)]
    return " ".join(parts), validation.complete_cpf(f"{rng.randrange(10**8, 10**9)}")


def _ascii(name: str) -> str:
    return search_key(name).replace(" ", ".")


def _customer_rows(
    org: Organization, count: int, run: str, rng: random.Random, now: datetime
) -> Iterator[tuple[Any, ...]]:
    ids = public_ids("cus")
    for n in range(1, count + 1):
        name, document = _person(rng)
        key = search_key(name)
        yield (
            org.id,
            next(ids),
            name,
            key,
            f"{_ascii(name)}.{n}@example.com" if rng.random() < 0.9 else None,
            f"55{rng.randrange(11, 99)}9{rng.randrange(10**8):08d}",
            document,
            f"seed-{run}-{n:07d}",
            now,
            now,
        )


CUSTOMER_COLUMNS = (
    "organization_id",
    "public_id",
    "name",
    "search_name",
    "email",
    "phone",
    "document",
    "external_id",
    "created_at",
    "updated_at",
)

INVOICE_COLUMNS = (
    "organization_id",
    "public_id",
    "number",
    "customer_id",
    "description",
    "status",
    "amount",
    "fine_bp",
    "interest_bp",
    "frozen_fine",
    "frozen_interest",
    "fine_settled",
    "due_date",
    "original_due_date",
    "payment_token",
    "paid_at",
    "paid_amount",
    "payment_method",
    "reminders_paused",
    "version",
    "created_at",
    "updated_at",
)


def _amount(rng: random.Random) -> int:
    if rng.random() < 0.7:
        return rng.choice(PRICES)
    # A long tail: most small, a few large, whole centavos only.
    return max(1_000, int(rng.lognormvariate(10.5, 1.0)))


def _invoice_rows(
    org: Organization,
    customer_ids: Sequence[int],
    count: int,
    first_number: int,
    today: date,
    rng: random.Random,
    now: datetime,
) -> Iterator[tuple[Any, ...]]:
    n_customers = len(customer_ids)
    ids = public_ids("inv")
    for i in range(count):
        # Skewed: a minority of customers hold most invoices (and debt).
        customer_id = customer_ids[int(n_customers * rng.random() ** 2)]
        offset = rng.randint(-400, 60)
        due = today + timedelta(days=offset)
        amount = _amount(rng)
        roll = rng.random()
        paid_at = paid_amount = method = None
        if offset < 0 and roll < 0.6 or offset >= 0 and roll < 0.1:
            status = InvoiceStatus.PAID.value
            late = rng.choice((0, 0, 0, 1, 2, 5, 12))
            paid_day = min(today, due + timedelta(days=late))
            paid_at = datetime(
                paid_day.year,
                paid_day.month,
                paid_day.day,
                12 + rng.randrange(8),
                rng.randrange(60),
                tzinfo=UTC,
            )
            paid_amount = amount
            method = rng.choice(METHODS)
        elif roll > 0.96:
            status = InvoiceStatus.CANCELED.value
        else:
            status = InvoiceStatus.PENDING.value
        yield (
            org.id,
            next(ids),
            first_number + i,
            customer_id,
            rng.choice(DESCRIPTIONS),
            status,
            amount,
            org.fine_bp,
            org.interest_bp,
            0,
            0,
            False,
            due,
            due,
            secrets.token_urlsafe(24),
            paid_at,
            paid_amount,
            method,
            False,
            1,
            now,
            now,
        )


@contextlib.contextmanager
def _indexes_rebuilt(
    conn: Connection, tables: Sequence[str], enabled: bool, say: Callable[[str], None]
) -> Iterator[None]:
    """Drop secondary indexes and unique constraints, load, then rebuild them.

    Building an index once over a million rows is several times faster than
    updating it row by row (random keys such as payment tokens are the worst
    case). Primary keys and foreign keys stay, so integrity is checked as
    usual; the tables are locked until the transaction commits.
    """
    if not enabled:
        yield
        return
    restore: list[str] = []
    for table in tables:
        for name, definition in conn.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype = 'u'"
            ),
            {"t": table},
        ):
            conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
            restore.append(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
            )
        for name, definition in conn.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.tablename = :t AND NOT EXISTS ("
                "SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
            ),
            {"t": table},
        ):
            conn.execute(text(f'DROP INDEX "{name}"'))
            restore.append(definition)
    yield
    started = time.monotonic()
    for statement in restore:
        conn.execute(text(statement))
    say(f"{len(restore)} índices reconstruídos em {time.monotonic() - started:.1f} s")


def _insert_events(
    conn: Connection, org: Organization, first: int, last: int, now: datetime
) -> None:
    """Give each seeded invoice its ``invoice.created`` event, in one statement."""
    reais = cast(Invoice.amount // 100, String)
    cents = cast(Invoice.amount % 100, String)
    if conn.dialect.name == "postgresql":
        amount = reais + "." + func.lpad(cents, 2, "0")
        data = func.json_build_object(
            "amount", amount, "due_date", cast(Invoice.due_date, String)
        )
    else:
        amount = reais + "." + func.substr("0" + cents, -2)
        data = func.json_object(
            "amount", amount, "due_date", cast(Invoice.due_date, String)
        )
    rows = (
        select(
            Invoice.organization_id,
            Invoice.id,
            Invoice.customer_id,
            literal("invoice.created"),
            literal(now, UTCDateTime()),
            literal("system:seed"),
            data,
        )
        .where(Invoice.organization_id == org.id)
        .where(Invoice.number.between(first, last))
    )
    columns = [
        "organization_id",
        "invoice_id",
        "customer_id",
        "type",
        "at",
        "actor",
        "data",
    ]
    conn.execute(Event.__table__.insert().from_select(columns, rows))


# --- the command -----------------------------------------------------------------


def find_or_create_org(name: str | None) -> Organization:
    """Return the named organization (created if missing) or the demo one."""
    from .demo import load_demo

    if name is None:
        org, _created = load_demo()
        return org
    found = db.session.execute(
        select(Organization).where(Organization.name == name)
    ).scalar_one_or_none()
    if found is not None:
        return found
    org = Organization(name=name)
    db.session.add(org)
    db.session.commit()
    return org


def seed(
    org: Organization,
    customers: int,
    invoices: int,
    seed_value: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedResult:
    """Load ``customers`` customers and ``invoices`` invoices into ``org``."""
    if customers < 1 and invoices > 0:
        raise click.ClickException("Faturas precisam de clientes: use --customers.")
    started = time.monotonic()
    say = progress or (lambda message: None)
    rng = random.Random(seed_value)
    run = secrets.token_hex(3)
    now = datetime.now(UTC)
    today = clock.today(org.timezone)

    with tenancy.unscoped():
        conn = db.session.connection()
        is_pg = conn.dialect.name == "postgresql"
        customer_table = Customer.__table__
        invoice_table = Invoice.__table__

        _write(
            conn,
            customer_table,
            CUSTOMER_COLUMNS,
            _customer_rows(org, customers, run, rng, now),
        )
        customer_ids = list(
            conn.execute(
                select(Customer.id)
                .where(Customer.organization_id == org.id)
                .where(Customer.external_id.like(f"seed-{run}-%"))
                .order_by(Customer.id)
            ).scalars()
        )
        say(f"{len(customer_ids)} clientes em {time.monotonic() - started:.1f} s")

        if invoices > 0:
            # Reserve the numbers first (row lock), like new_invoice() does.
            last = conn.execute(
                update(Organization)
                .where(Organization.id == bindparam("org_id"))
                .values(invoice_seq=Organization.invoice_seq + invoices)
                .returning(Organization.invoice_seq),
                {"org_id": org.id},
            ).scalar_one()
            first = last - invoices + 1
            rebuild = is_pg and invoices >= REBUILD_AT
            with _indexes_rebuilt(conn, ("invoices", "events"), rebuild, say):
                _write(
                    conn,
                    invoice_table,
                    INVOICE_COLUMNS,
                    _invoice_rows(org, customer_ids, invoices, first, today, rng, now),
                )
                say(f"{invoices} faturas em {time.monotonic() - started:.1f} s")
                _insert_events(conn, org, first, last, now)
                say(f"eventos em {time.monotonic() - started:.1f} s")
        db.session.commit()
        if is_pg:
            # Fresh statistics for the planner, and a visibility map so the
            # list's index-only scans need not visit the table.
            with db.engine.connect() as fresh:
                fresh.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE customers, invoices, events")
                )
            say(f"VACUUM ANALYZE em {time.monotonic() - started:.1f} s")
    db.session.refresh(org)
    return SeedResult(org, len(customer_ids), invoices, time.monotonic() - started)


def install(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option(
        "--customers",
        type=click.IntRange(0, 10_000_000),
        default=1000,
        show_default=True,
        help="clientes a criar",
    )
    @click.option(
        "--invoices",
        type=click.IntRange(0, 100_000_000),
        default=10_000,
        show_default=True,
        help="faturas a criar",
    )
    @click.option(
        "--org",
        "org_name",
        default=None,
        help="organização (criada se não existir); padrão: a de demonstração",
    )
    @click.option(
        "--seed",
        "seed_value",
        type=int,
        default=None,
        help="semente do gerador, para repetir a mesma carga",
    )
    def seed_command(
        customers: int, invoices: int, org_name: str | None, seed_value: int | None
    ) -> None:
        """Bulk-load synthetic customers and invoices (benchmarks, demos)."""
        org = find_or_create_org(org_name)
        result = seed(org, customers, invoices, seed_value, progress=click.echo)
        click.echo(
            f"{result.customers} clientes e {result.invoices} faturas carregados em "
            f"{result.organization.name} em {result.seconds:.1f} s"
        )
