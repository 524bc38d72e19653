"""Pix BR Code: the Banco Central's examples, round trips and the gateway."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agnozys import brcode
from agnozys.brcode import BRCodeError, StaticPix
from agnozys.extensions import db
from agnozys.services import pix as pix_service

# "Manual de Padrões para Iniciação do Pix" (Banco Central do Brasil),
# static example: random key, no amount, txid "***".
MANUAL_STATIC = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
# Same manual, dynamic example: location URL, R$ 123,45, single use.
MANUAL_DYNAMIC = (
    "00020101021226720014br.gov.bcb.pix2550bx.com.br/pix/"
    "8b3da2f3-9a41-40d1-a91a-bd93113bd4415204000053039865406123.455802BR"
    "5913Fulano de Tal6008BRASILIA62190515RP12345678-2019630445C8"
)


def test_crc16_is_ccitt_false() -> None:
    assert brcode.crc16("123456789") == "29B1"


def test_manual_static_example_reproduced_byte_for_byte() -> None:
    built = brcode.build(
        StaticPix(
            merchant_name="Fulano de Tal",
            merchant_city="BRASILIA",
            key="123e4567-e12b-12d1-a456-426655440000",
        )
    )
    assert built == MANUAL_STATIC


def test_manual_dynamic_example_reproduced_byte_for_byte() -> None:
    built = brcode.build(
        StaticPix(
            merchant_name="Fulano de Tal",
            merchant_city="BRASILIA",
            url="bx.com.br/pix/8b3da2f3-9a41-40d1-a91a-bd93113bd441",
            amount=12_345,
            txid="RP12345678-2019",
            single_use=True,
        )
    )
    assert built == MANUAL_DYNAMIC


@pytest.mark.parametrize("payload", [MANUAL_STATIC, MANUAL_DYNAMIC])
def test_manual_examples_decode_and_their_crc_checks(payload: str) -> None:
    decoded = brcode.parse(payload)
    assert decoded.merchant_name == "Fulano de Tal"
    assert decoded.merchant_city == "BRASILIA"
    assert brcode.crc16(payload[:-4]) == payload[-4:]


def test_a_changed_character_fails_the_crc() -> None:
    tampered = MANUAL_STATIC.replace("Fulano", "Fulana")
    with pytest.raises(BRCodeError, match="CRC"):
        brcode.parse(tampered)


def test_amount_and_txid_go_in_their_fields() -> None:
    payload = brcode.build(
        StaticPix(
            merchant_name="Escola Aurora",
            merchant_city="São Paulo",
            key="52998224725",
            amount=103_333,
            txid="inv8k2m",
        )
    )
    fields = dict(brcode.fields(payload[:-8]))
    assert fields["54"] == "1033.33"
    assert fields["60"] == "Sao Paulo"
    assert dict(brcode.fields(fields["62"]))["05"] == "inv8k2m"


def test_long_names_are_cut_to_the_specification_limits() -> None:
    payload = brcode.build(
        StaticPix(
            merchant_name="Associação Educacional Aurora do Brasil",
            merchant_city="São José dos Campos",
            key="fulano@example.com",
        )
    )
    decoded = brcode.parse(payload)
    assert decoded.merchant_name == "Associacao Educacional Au"
    assert decoded.merchant_city == "Sao Jose dos Ca"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("529.982.247-25", "52998224725"),
        ("11.222.333/0001-81", "11222333000181"),
        ("Maria@Exemplo.com", "maria@exemplo.com"),
        ("+55 (11) 98765-4321", "+5511987654321"),
        (
            "123E4567-E12B-12D1-A456-426655440000",
            "123e4567-e12b-12d1-a456-426655440000",
        ),
    ],
)
def test_pix_keys_are_normalized(raw: str, normal: str) -> None:
    assert brcode.normalize_key(raw) == normal


@pytest.mark.parametrize("raw", ["", "123", "52998224724", "não é chave", "a@b"])
def test_bad_pix_keys_are_refused(raw: str) -> None:
    with pytest.raises(BRCodeError):
        brcode.normalize_key(raw)


names = st.text(alphabet=string.ascii_letters + string.digits + " ", max_size=25).map(
    lambda s: " ".join(s.split())
)


@given(
    name=names.filter(bool),
    city=names.filter(lambda s: bool(s) and len(s) <= 15),
    amount=st.one_of(st.none(), st.integers(min_value=1, max_value=10**12)),
    txid=st.one_of(
        st.just("***"),
        st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=25),
    ),
    key=st.sampled_from(
        [
            "52998224725",
            "fulano@example.com",
            "+5511987654321",
            "123e4567-e12b-12d1-a456-426655440000",
        ]
    ),
)
def test_payloads_decode_back_to_the_same_fields(
    name: str, city: str, amount: int | None, txid: str, key: str
) -> None:
    pix = StaticPix(
        merchant_name=name, merchant_city=city, key=key, amount=amount, txid=txid
    )
    payload = brcode.build(pix)
    assert brcode.parse(payload) == pix
    assert brcode.crc16(payload[:-4]) == payload[-4:]


# --- the gateway plugin ---------------------------------------------------------


@pytest.fixture
def pix_app(make_app: Any) -> Any:
    from helpers import _reset_schema

    app = make_app(
        AGNOZYS_GATEWAY="pix",
        AGNOZYS_PIX_KEY="52998224725",
        AGNOZYS_PIX_MERCHANT_NAME="Escola Aurora",
        AGNOZYS_PIX_MERCHANT_CITY="Sao Paulo",
    )
    _reset_schema(app)
    with app.app_context():
        yield app
        db.session.remove()


def test_pix_gateway_offers_qr_code_for_exact_amount_due(pix_app: Any) -> None:
    from helpers import today

    from agnozys import plugins
    from agnozys.models import Customer, Organization
    from agnozys.services.charges import charge_request
    from agnozys.services.invoices import new_invoice

    org = Organization(name="Escola Aurora")
    db.session.add(org)
    db.session.commit()
    customer = Customer(organization_id=org.id, name="Ana", search_name="ana")
    db.session.add(customer)
    db.session.commit()
    invoice = new_invoice(
        organization=org,
        customer=customer,
        amount=100_000,
        due_date=today(org),
        description="Mensalidade",
        fine_bp=200,
        interest_bp=100,
        actor="test",
    )
    db.session.commit()
    db.session.refresh(invoice)
    assert invoice.gateway_charge_id == "pix_" + invoice.public_id.replace("_", "")

    options = plugins.hook().agnozys_gateway_payment_options(
        request=charge_request(invoice)
    )
    kinds = [option.kind for option in options]
    assert kinds == ["pix"]
    decoded = brcode.parse(options[0].data["code"])
    assert decoded.amount == 100_000
    assert decoded.key == "52998224725"
    assert decoded.merchant_name == "Escola Aurora"
    assert options[0].data["qr_svg"].startswith("<svg")
    assert options[0].data["qr_data_uri"].startswith("data:image/svg+xml")

    # An organization's own key wins over the deployment's.
    pix_service.save_settings(
        org.id,
        {"key": "maria@aurora.com", "merchant_name": "Aurora", "merchant_city": "Rio"},
        actor="test",
    )
    options = plugins.hook().agnozys_gateway_payment_options(
        request=charge_request(invoice)
    )
    assert brcode.parse(options[0].data["code"]).key == "maria@aurora.com"


def test_pix_settings_report_each_bad_field(app: Any, org: Any) -> None:
    from agnozys.services import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        pix_service.save_settings(
            org.id,
            {"key": "123", "merchant_name": "", "merchant_city": "X" * 16},
            actor="test",
        )
    assert set(caught.value.fields) == {"key", "merchant_name", "merchant_city"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"AGNOZYS_PIX_KEY": "123"}, "AGNOZYS_PIX_MERCHANT_NAME"),
        (
            {
                "AGNOZYS_PIX_KEY": "123",
                "AGNOZYS_PIX_MERCHANT_NAME": "A",
                "AGNOZYS_PIX_MERCHANT_CITY": "B",
            },
            "AGNOZYS_PIX_KEY inválida",
        ),
    ],
)
def test_misconfigured_pix_stops_start_up(
    make_app: Any, overrides: dict[str, str], message: str
) -> None:
    from agnozys.plugins import PluginError

    with pytest.raises(PluginError, match="Plugin 'pix'") as caught:
        make_app(AGNOZYS_GATEWAY="pix", **overrides)
    assert message in str(caught.value)
