"""Pix BR Code: the EMV merchant-presented payload the Banco Central specifies.

A payload is a run of TLV fields (two-digit id, two-digit length, value),
some of them templates holding TLV fields of their own, closed by field
``63`` carrying a CRC16-CCITT (polynomial 0x1021, initial 0xFFFF) of
everything before it, id and length of ``63`` included. Pure functions:
no database, no Flask.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass

GUI = "br.gov.bcb.pix"
COUNTRY = "BR"
CURRENCY = "986"  # ISO 4217, real
CATEGORY = "0000"  # merchant category code: not informed
NAME_MAX = 25
CITY_MAX = 15
TXID_MAX = 25
KEY_MAX = 77


class BRCodeError(ValueError):
    """A field that cannot go into (or came out of) a BR Code."""


@dataclass(frozen=True)
class StaticPix:
    """The fields of a Pix BR Code, as built or as decoded."""

    merchant_name: str
    merchant_city: str
    key: str | None = None
    amount: int | None = None  # centavos; None lets the payer type it
    txid: str = "***"
    info: str | None = None  # field 02 of the account template
    url: str | None = None  # field 25: a dynamic Pix's location
    single_use: bool | None = None  # field 01: "12" single use, "11" reusable


def crc16(data: str) -> str:
    """Return the CRC16-CCITT-FALSE of ``data`` as four upper-case hex digits."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _field(field_id: str, value: str) -> str:
    size = len(value.encode("utf-8"))
    if size > 99:
        raise BRCodeError(f"campo {field_id} longo demais ({size} > 99)")
    return f"{field_id}{size:02d}{value}"


def ascii_text(value: str, limit: int) -> str:
    """Drop accents and anything outside printable ASCII; cut at ``limit``."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = "".join(c for c in plain if 32 <= ord(c) < 127)
    return " ".join(plain.split())[:limit]


def normalize_key(key: str) -> str:
    """Return a Pix key in the form the DICT stores; raises :class:`BRCodeError`.

    CPF and CNPJ become digits only, phones ``+55...``, e-mails lower case,
    random keys (EVP) lower-case UUIDs.
    """
    key = key.strip()
    if not key:
        raise BRCodeError("chave Pix vazia")
    if "@" in key:
        if len(key) > KEY_MAX or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", key):
            raise BRCodeError("e-mail inválido como chave Pix")
        return key.lower()
    try:
        return str(uuid.UUID(key)) if len(key) == 36 else _number_key(key)
    except ValueError as exc:
        raise BRCodeError("chave Pix aleatória inválida") from exc


def _number_key(key: str) -> str:
    from . import validation

    if key.startswith("+"):
        digits = re.sub(r"[\s()-]", "", key)
        if not re.fullmatch(r"\+\d{12,13}", digits):
            raise BRCodeError("telefone inválido como chave Pix (+55DDNÚMERO)")
        return digits
    digits = re.sub(r"[.\-/\s]", "", key)
    if not digits.isdigit():
        raise BRCodeError("chave Pix inválida: use CPF, CNPJ, e-mail, +55... ou EVP")
    try:
        return validation.document(digits) or ""
    except validation.Invalid as exc:
        raise BRCodeError(f"chave Pix inválida: {exc}") from exc


def build(pix: StaticPix) -> str:
    """Return the BR Code payload ("Pix copia e cola") for ``pix``."""
    if not pix.key and not pix.url:
        raise BRCodeError("informe a chave Pix")
    name = ascii_text(pix.merchant_name, NAME_MAX)
    city = ascii_text(pix.merchant_city, CITY_MAX)
    if not name or not city:
        raise BRCodeError("informe o nome e a cidade do recebedor")
    txid = pix.txid or "***"
    # A static Pix's txid is letters and digits; a dynamic one's comes
    # from the PSP as it is.
    allowed = r"[!-~]{1,25}" if pix.url else r"[A-Za-z0-9]{1,25}"
    if txid != "***" and not re.fullmatch(allowed, txid):
        raise BRCodeError("o identificador (txid) usa até 25 letras e números")

    account = _field("00", GUI)
    if pix.key:
        account += _field("01", pix.key)
    if pix.info:
        account += _field("02", ascii_text(pix.info, 72))
    if pix.url:
        account += _field("25", pix.url)

    parts = [_field("00", "01")]
    if pix.single_use is not None:
        parts.append(_field("01", "12" if pix.single_use else "11"))
    parts += [
        _field("26", account),
        _field("52", CATEGORY),
        _field("53", CURRENCY),
    ]
    if pix.amount is not None:
        if pix.amount <= 0:
            raise BRCodeError("o valor deve ser maior que zero")
        whole, cents = divmod(pix.amount, 100)
        parts.append(_field("54", f"{whole}.{cents:02d}"))
    parts += [
        _field("58", COUNTRY),
        _field("59", name),
        _field("60", city),
        _field("62", _field("05", txid)),
    ]
    body = "".join(parts) + "6304"
    return body + crc16(body)


def fields(payload: str) -> list[tuple[str, str]]:
    """Split TLV text into ``(id, value)`` pairs; raises :class:`BRCodeError`."""
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(payload):
        head = payload[position : position + 4]
        if len(head) < 4 or not head.isdigit():
            raise BRCodeError(f"TLV malformado na posição {position}")
        size = int(head[2:])
        value = payload[position + 4 : position + 4 + size]
        if len(value) != size:
            raise BRCodeError(f"campo {head[:2]} truncado")
        found.append((head[:2], value))
        position += 4 + size
    return found


def parse(payload: str) -> StaticPix:
    """Decode a BR Code payload back into its fields, checking its CRC."""
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise BRCodeError("payload sem CRC (campo 63) no fim")
    if crc16(payload[:-4]) != payload[-4:].upper():
        raise BRCodeError("CRC não confere")
    top = dict(fields(payload[:-8]))
    if top.get("00") != "01":
        raise BRCodeError("formato de payload desconhecido")
    account = dict(fields(top.get("26", "")))
    if account.get("00", "").lower() != GUI:
        raise BRCodeError("não é um BR Code Pix")
    additional = dict(fields(top.get("62", "")))
    amount = None
    if "54" in top:
        whole, _, cents = top["54"].partition(".")
        amount = int(whole) * 100 + int((cents + "00")[:2])
    return StaticPix(
        merchant_name=top.get("59", ""),
        merchant_city=top.get("60", ""),
        key=account.get("01"),
        amount=amount,
        txid=additional.get("05", "***"),
        info=account.get("02"),
        url=account.get("25"),
        single_use={"12": True, "11": False}.get(top.get("01", "")),
    )
