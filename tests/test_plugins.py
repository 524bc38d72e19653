"""Plugins: found by entry point, chosen by configuration, checked at start-up.

The third-party package under ``tests/fixtures/thirdparty_plugin`` is
installed for each test as a ``.dist-info`` directory on ``sys.path`` (what
``pip install`` leaves behind), so Agnozys finds it exactly as it would a
published package, offline, and nothing is left in the environment.
"""

from __future__ import annotations

import json
import shutil
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agnozys import plugins, tenancy
from agnozys.extensions import db
from agnozys.models import Customer, Invoice, InvoiceStatus, Organization
from agnozys.plugins import PluginError

FIXTURE = Path(__file__).parent / "fixtures" / "thirdparty_plugin"
ACME = {
    "AGNOZYS_GATEWAY": "acme",
    "AGNOZYS_NOTIFIERS": "acme_hub",
    "AGNOZYS_ACCESS_BLOCKER": "acme_blocker",
    "AGNOZYS_PLUGINS": "acme_hub",
    "ACME_WEBHOOK_KEY": "acme-test-key",
}


def install_distribution(source: Path, site: Path) -> str:
    """Lay ``source`` out in ``site`` as an installed distribution would be."""
    project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    name = project["name"].replace("-", "_")
    dist_info = site / f"{name}-{project['version']}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\n"
        f"Version: {project['version']}\n"
    )
    lines = []
    for group, points in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in points.items()]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for package in source.iterdir():
        if (package / "__init__.py").exists():
            shutil.copytree(package, site / package.name)
    return name


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Install the Acme plugin package; yield its module of recorded calls."""
    site = tmp_path / "site-packages"
    install_distribution(FIXTURE, site)
    monkeypatch.syspath_prepend(str(site))
    import agnozys_acme

    agnozys_acme.CALLS.clear()
    yield agnozys_acme
    for module in [m for m in sys.modules if m.startswith("agnozys_acme")]:
        del sys.modules[module]


@pytest.fixture
def acme_app(make_app: Any, acme: Any) -> Iterator[Any]:
    from helpers import _reset_schema

    app = make_app(**ACME)
    _reset_schema(app)
    with app.app_context():
        yield app
        db.session.remove()


def calls(acme: Any, hook: str) -> list[Any]:
    return [arg for name, arg in acme.CALLS if name == hook]


def make_org_invoice(amount: int = 50_000, due_in: int = 5) -> Invoice:
    from helpers import today

    from agnozys.services.invoices import new_invoice

    org = Organization(name="Acme Cliente")
    db.session.add(org)
    db.session.commit()
    customer = Customer(
        organization_id=org.id, name="Rita", search_name="rita", email="rita@x.test"
    )
    db.session.add(customer)
    db.session.commit()
    with tenancy.scope(org.id):
        invoice = new_invoice(
            organization=org,
            customer=customer,
            amount=amount,
            due_date=today(org) + timedelta(days=due_in),
            description="Plano Acme",
            fine_bp=200,
            interest_bp=100,
            actor="test",
        )
        db.session.commit()
    db.session.refresh(invoice)
    return invoice


# --- the third-party package, through every family -------------------------------


def test_entry_point_of_installed_package_is_found(acme: Any) -> None:
    assert {"acme", "acme_hub", "acme_blocker"} <= set(plugins.available())
    # Built-ins are found the same way.
    assert {"sandbox", "pix", "outbox", "log"} <= set(plugins.available())


def test_third_party_gateway_charges_an_invoice_and_offers_its_boleto(
    acme_app: Any, acme: Any
) -> None:
    invoice = make_org_invoice()
    [request] = calls(acme, "create_charge")
    assert request.invoice_id == invoice.public_id
    assert request.amount_due == 50_000
    assert invoice.gateway_charge_id == f"acme-{invoice.public_id}"

    page = acme_app.test_client().get(f"/pay/{invoice.payment_token}")
    assert "Boleto Acme" in page.get_data(as_text=True)
    assert "ACME-50000" in page.get_data(as_text=True)
    assert calls(acme, "payment_options")


def test_third_party_gateway_webhook_pays_and_listener_hears_it(
    acme_app: Any, acme: Any
) -> None:
    invoice = make_org_invoice()
    body = {
        "event": "acme-evt-1",
        "charge": invoice.gateway_charge_id,
        "cents": 50_000,
        "at": datetime.now(UTC).isoformat(),
    }
    client = acme_app.test_client()
    refused = client.post("/webhooks/acme", json=body, headers={"X-Acme-Key": "no"})
    assert refused.status_code == 401
    response = client.post(
        "/webhooks/acme", data=json.dumps(body), headers={"X-Acme-Key": "acme-test-key"}
    )
    assert response.status_code == 200
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.payment_method == "acme"
    [notice] = calls(acme, "invoice_paid")
    assert notice.invoice_id == invoice.public_id
    assert notice.status == "paid"


def test_reschedule_and_cancel_reach_third_party_gateway_and_listener(
    acme_app: Any, acme: Any
) -> None:
    from helpers import today

    from agnozys.services import negotiation

    invoice = make_org_invoice(due_in=-10)
    new_date = today(invoice.organization) + timedelta(days=3)
    with tenancy.scope(invoice.organization_id):
        negotiation.reschedule_invoice(
            invoice.public_id, {"due_date": new_date.isoformat()}, actor="test"
        )
    [update] = calls(acme, "update_charge")
    assert update.due_date == new_date
    assert update.amount_due > 50_000  # late charges frozen in
    [rescheduled] = calls(acme, "invoice_rescheduled")
    assert rescheduled.due_date == new_date

    with tenancy.scope(invoice.organization_id):
        negotiation.cancel_invoice(invoice.public_id, "desistiu", actor="test")
    [cancel] = calls(acme, "cancel_charge")
    assert cancel.invoice_id == invoice.public_id
    [canceled] = calls(acme, "invoice_canceled")
    assert canceled.status == "canceled"


def test_third_party_notifier_delivers_the_payment_link(
    acme_app: Any, acme: Any
) -> None:
    from agnozys.services import negotiation

    invoice = make_org_invoice()
    with tenancy.scope(invoice.organization_id):
        negotiation.resend_link(invoice.public_id, actor="test")
    sent = calls(acme, "send_message")
    assert sent, "the notifier was not called"
    assert sent[0].to == "rita@x.test"
    assert invoice.payment_token in sent[0].text


def test_third_party_blocker_cuts_and_restores_access(acme_app: Any, acme: Any) -> None:
    from helpers import today

    from agnozys.services import subscriptions as service

    invoice = make_org_invoice()
    org = invoice.organization
    with tenancy.scope(org.id):
        plan = service.create_plan(
            {"name": "Plano", "amount": "150.00", "interval": "month"}, actor="t"
        )
        subscription = service.create_subscription(
            {
                "customer_id": invoice.customer.public_id,
                "plan_id": plan.public_id,
                "start_date": (today(org) - timedelta(days=40)).isoformat(),
            },
            organization=org,
            actor="t",
        )
    service.issue_due()
    with tenancy.scope(org.id):
        service.suspend_subscription(subscription.public_id, actor="user:ana@x")
    [blocked] = calls(acme, "block_access")
    assert blocked.type == "access.blocked"
    assert blocked.subscription_id == subscription.public_id

    with tenancy.unscoped():
        unpaid = list(
            db.session.execute(
                select(Invoice).where(
                    Invoice.subscription_id == subscription.id,
                    Invoice.status == InvoiceStatus.PENDING,
                )
            ).scalars()
        )
    client = acme_app.test_client()
    for number, open_invoice in enumerate(unpaid):
        from agnozys.services.invoices import figures

        client.post(
            "/webhooks/acme",
            data=json.dumps(
                {
                    "event": f"acme-sub-{number}",
                    "charge": open_invoice.gateway_charge_id,
                    "cents": figures(open_invoice).amount_due,
                    "at": datetime.now(UTC).isoformat(),
                }
            ),
            headers={"X-Acme-Key": "acme-test-key"},
        )
    [unblocked] = calls(acme, "unblock_access")
    assert unblocked.type == "access.unblocked"


# --- start-up checks -------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"AGNOZYS_GATEWAY": "stripe"}, "Plugin 'stripe' (AGNOZYS_GATEWAY) não está"),
        ({"AGNOZYS_NOTIFIERS": "outbox,telegrama"}, "Plugin 'telegrama'"),
        ({"AGNOZYS_GATEWAY": "sandbox,pix"}, "exatamente um plugin de gateway"),
        ({"AGNOZYS_GATEWAY": ""}, "AGNOZYS_GATEWAY deve nomear exatamente um"),
        ({"AGNOZYS_GATEWAY": "outbox"}, "Plugin 'outbox' é do tipo notifier"),
        ({"AGNOZYS_SANDBOX_SECRET": "curto"}, "Plugin 'sandbox': AGNOZYS_SANDBOX"),
    ],
)
def test_misnamed_or_misconfigured_plugin_stops_start_up(
    make_app: Any, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(
        PluginError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        make_app(**overrides)


def test_third_party_plugin_missing_its_setting_stops_start_up(
    make_app: Any, acme: Any
) -> None:
    settings = {**ACME}
    del settings["ACME_WEBHOOK_KEY"]
    with pytest.raises(PluginError, match="Plugin 'acme': defina ACME_WEBHOOK_KEY"):
        make_app(**settings)


def test_plugin_with_a_misspelled_hook_stops_start_up(
    make_app: Any, acme: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "typo_src"
    (package / "agnozys_typo").mkdir(parents=True)
    (package / "pyproject.toml").write_text(
        '[project]\nname = "agnozys-typo"\nversion = "1.0"\n'
        '[project.entry-points.agnozys]\ntypo = "agnozys_typo"\n'
    )
    (package / "agnozys_typo" / "__init__.py").write_text(
        "from agnozys import hookimpl\n\n\n"
        "@hookimpl\ndef agnozys_invoice_payed(notice):\n    pass\n"
    )
    install_distribution(package, tmp_path / "site2")
    monkeypatch.syspath_prepend(str(tmp_path / "site2"))
    try:
        with pytest.raises(PluginError, match="Plugin 'typo'.*agnozys_invoice_payed"):
            make_app(AGNOZYS_PLUGINS="typo")
    finally:
        sys.modules.pop("agnozys_typo", None)


def test_plugin_that_fails_to_import_is_named(
    make_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "broken_src"
    (package / "agnozys_broken").mkdir(parents=True)
    (package / "pyproject.toml").write_text(
        '[project]\nname = "agnozys-broken"\nversion = "1.0"\n'
        '[project.entry-points.agnozys]\nbroken = "agnozys_broken"\n'
    )
    (package / "agnozys_broken" / "__init__.py").write_text("import nao_existe\n")
    install_distribution(package, tmp_path / "site3")
    monkeypatch.syspath_prepend(str(tmp_path / "site3"))
    with pytest.raises(PluginError, match="Plugin 'broken' não carregou"):
        make_app(AGNOZYS_PLUGINS="broken")


def test_every_builtin_plugin_describes_itself(app: Any) -> None:
    families = {}
    for name, entry in plugins.available().items():
        module = entry.load()
        if entry.value.startswith("plugins."):
            info = module.agnozys_plugin_info()
            assert info.name == name
            families[name] = info.family
    assert families["sandbox"] == families["pix"] == "gateway"
    assert families["outbox"] == families["smtp"] == "notifier"
    assert families["log"] == families["webhook"] == "blocker"


# --- Configurações > Integrações ---------------------------------------------------


def test_integrations_page_lists_active_plugins_by_family(staff: Any) -> None:
    page = staff.get("/configuracoes/integracoes").get_data(as_text=True)
    assert "Gateway de pagamento" in page
    assert "Sandbox (PSP local de testes)" in page
    assert "Notificadores" in page
    assert "Bloqueio de acesso" in page
    assert "Configurado" in page
    assert "http://agnozys.test/webhooks/sandbox" in page


def test_integrations_page_shows_a_plugin_that_lost_its_setting(
    staff: Any, app: Any
) -> None:
    app.config["AGNOZYS_SANDBOX_SECRET"] = "curto"
    page = staff.get("/configuracoes/integracoes").get_data(as_text=True)
    assert "Configuração incompleta" in page
    assert "AGNOZYS_SANDBOX_SECRET precisa ter pelo menos 16 caracteres." in page


def test_integrations_page_is_for_admins(client: Any, auth: Any, agent: Any) -> None:
    auth.login(agent)
    assert client.get("/configuracoes/integracoes").status_code == 403


def test_admin_sets_the_organization_pix_key(
    make_app: Any, org: Any, owner: Any
) -> None:
    from helpers import Auth

    app = make_app(AGNOZYS_GATEWAY="pix")
    with app.app_context():
        client = app.test_client()
        Auth(client).login(owner)
        page = client.get("/configuracoes/integracoes").get_data(as_text=True)
        assert "Nenhuma chave Pix definida" in page
        response = client.post(
            "/configuracoes/integracoes/pix",
            data={"key": "52998224725", "merchant_name": "", "merchant_city": "SP"},
        )
        assert response.status_code == 422
        assert "Informe o nome do recebedor." in response.get_data(as_text=True)
        response = client.post(
            "/configuracoes/integracoes/pix",
            data={
                "key": "529.982.247-25",
                "merchant_name": "Escola Aurora",
                "merchant_city": "São Paulo",
            },
            follow_redirects=True,
        )
        page = response.get_data(as_text=True)
        assert "Chave Pix salva." in page
        assert "52998224725" in page
        db.session.remove()


# Which test proves Agnozys calls each hook; tests/test_hookspecs_meta.py
# fails when a hookspec is missing here or names a test that does not exist.
HOOK_TESTS = {
    "agnozys_plugin_info": [
        test_every_builtin_plugin_describes_itself,
        test_integrations_page_lists_active_plugins_by_family,
    ],
    "agnozys_check_config": [
        test_third_party_plugin_missing_its_setting_stops_start_up,
        test_integrations_page_shows_a_plugin_that_lost_its_setting,
    ],
    "agnozys_gateway_create_charge": [
        test_third_party_gateway_charges_an_invoice_and_offers_its_boleto
    ],
    "agnozys_gateway_update_charge": [
        test_reschedule_and_cancel_reach_third_party_gateway_and_listener
    ],
    "agnozys_gateway_cancel_charge": [
        test_reschedule_and_cancel_reach_third_party_gateway_and_listener
    ],
    "agnozys_gateway_payment_options": [
        test_third_party_gateway_charges_an_invoice_and_offers_its_boleto
    ],
    "agnozys_gateway_parse_webhook": [
        test_third_party_gateway_webhook_pays_and_listener_hears_it
    ],
    "agnozys_send_message": [test_third_party_notifier_delivers_the_payment_link],
    "agnozys_block_access": [test_third_party_blocker_cuts_and_restores_access],
    "agnozys_unblock_access": [test_third_party_blocker_cuts_and_restores_access],
    "agnozys_invoice_paid": [
        test_third_party_gateway_webhook_pays_and_listener_hears_it
    ],
    "agnozys_invoice_rescheduled": [
        test_reschedule_and_cancel_reach_third_party_gateway_and_listener
    ],
    "agnozys_invoice_canceled": [
        test_reschedule_and_cancel_reach_third_party_gateway_and_listener
    ],
}
