"""The plugin contract: every hook Agnozys calls, grouped by family.

Hooks are always called with keyword arguments. Specs only ever gain
arguments, so a plugin written against an older Agnozys keeps working.
Plugins receive and return the plain dataclasses below, never ORM rows.
A plugin needs one import: ``from agnozys import hookimpl``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pluggy

PROJECT = "agnozys"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True)
class PluginInfo:
    """What a plugin says about itself on Configurações > Integrações."""

    name: str
    family: str  # "gateway", "notifier", "blocker" or "listener"
    title: str
    description: str = ""
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChargeRequest:
    """What a gateway needs to charge one invoice."""

    invoice_id: str
    organization_id: int
    organization_name: str
    number: int
    description: str
    amount_due: int  # centavos, late charges included
    due_date: date
    payment_url: str
    customer_name: str
    customer_document: str | None
    customer_email: str | None
    charge_id: str | None = None


@dataclass(frozen=True)
class Charge:
    """A gateway's answer to a charge request."""

    charge_id: str
    checkout_url: str | None = None
    pix_code: str | None = None
    boleto_line: str | None = None


@dataclass(frozen=True)
class PaymentOption:
    """One way to pay, as the payment link shows it.

    ``data`` keys the payment link understands: ``text`` (a line of help),
    ``code`` (text to copy: Pix copia e cola, boleto line),
    ``qr_data_uri`` (a ``data:image/...`` QR code), ``url`` (a link the
    customer follows, e.g. a checkout page), and ``action`` with
    ``method: "post"`` and ``label`` (a same-site path the payment link
    posts a button to, with its CSRF token).
    """

    kind: str  # "button", "pix", "boleto", "link"
    title: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentEvent:
    """A payment confirmed by a gateway, after its signature was verified."""

    event_id: str
    charge_id: str
    amount: int  # centavos
    paid_at: datetime
    gateway: str
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookRequest:
    """An incoming webhook, raw: plugins verify before they parse.

    ``headers`` names are lower case; ``body`` is the exact bytes received.
    """

    gateway: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime


@dataclass(frozen=True)
class Message:
    """A message for one recipient on one channel."""

    channel: str  # "email", "sms", "whatsapp"
    to: str
    subject: str
    text: str
    html: str | None = None
    organization_id: int | None = None
    invoice_id: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class SendResult:
    """What a notifier did with a message."""

    notifier: str
    provider_id: str | None = None


@dataclass(frozen=True)
class AccessChange:
    """Cut or restore one customer's access to the merchant's software."""

    delivery_id: str
    type: str  # "access.blocked" or "access.unblocked"
    organization_id: int
    customer_id: str
    customer_external_id: str | None
    subscription_id: str
    at: datetime


@dataclass(frozen=True)
class AccessResult:
    """What the merchant's software answered when it confirmed a change.

    A blocker may return this instead of True to have the answer shown on
    the delivery's attempts.
    """

    status_code: int | None = None
    detail: str = ""


class AccessDeliveryFailed(Exception):
    """Raised by a blocker when the merchant's software did not confirm.

    ``status_code`` is the HTTP status of the answer, None when there was
    no answer; the delivery is retried with backoff.
    """

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class InvoiceNotice:
    """An invoice event for listeners (paid, rescheduled, canceled)."""

    invoice_id: str
    organization_id: int
    status: str
    amount_due: int
    due_date: date
    data: dict[str, Any] = field(default_factory=dict)


# --- every plugin -----------------------------------------------------------


@hookspec
def agnozys_plugin_info() -> PluginInfo:
    """Called when Agnozys loads the plugin (its family must match the
    setting that named it) and when Configurações > Integrações lists it.

    :return: the plugin's :class:`PluginInfo`.
    """


@hookspec
def agnozys_check_config(config: dict[str, Any]) -> list[str]:
    """Called at start-up with the app's configuration, and again when
    Configurações > Integrações shows whether the plugin is configured.

    :param config: the Flask configuration mapping.
    :return: a list of problems in Portuguese (empty when all is well);
        at start-up any problem stops the app with a message naming the
        plugin.
    """


# --- gateway ----------------------------------------------------------------


@hookspec(firstresult=True)
def agnozys_gateway_create_charge(request: ChargeRequest) -> Charge | None:
    """Called in a job after an invoice is created (one-off, agreement
    part or subscription period) and its transaction committed.

    :param request: the invoice to charge; ``charge_id`` is None.
    :return: the new :class:`Charge`; its ``charge_id`` is what payment
        events will name. Raise to have the job report the failure.

    Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def agnozys_gateway_update_charge(request: ChargeRequest) -> Charge | None:
    """Called after an invoice's due date or amount changed (reschedule).

    :param request: the invoice as it is now; ``charge_id`` is set.
    :return: the updated :class:`Charge` (its id may change).

    Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def agnozys_gateway_cancel_charge(request: ChargeRequest) -> bool | None:
    """Called after an invoice is canceled (by staff or an agreement).

    :param request: the canceled invoice; ``charge_id`` is set.
    :return: True once the gateway no longer accepts the charge.

    Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def agnozys_gateway_payment_options(
    request: ChargeRequest,
) -> list[PaymentOption] | None:
    """Called when the payment link of an unpaid invoice is shown.

    :param request: the invoice as it is now.
    :return: the ways to pay, in the order to show them.

    Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def agnozys_gateway_parse_webhook(
    request: WebhookRequest,
) -> list[PaymentEvent] | None:
    """Called when a webhook arrives at ``/webhooks/<gateway>``.

    The plugin checks the signature and its age before reading the body,
    and raises :class:`agnozys.plugins.WebhookRejected` when either fails
    (status 401) or the body is not what it documents (status 400).
    Agnozys then records each event in one transaction; the same
    ``event_id`` twice is one payment.

    :param request: the raw request.
    :return: the payment events it carries (possibly none), or None when
        ``request.gateway`` is not this plugin's.

    Stops at the first non-None result.
    """


# --- notifier ---------------------------------------------------------------


@hookspec
def agnozys_send_message(message: Message) -> SendResult | None:
    """Called to deliver a message; only the notifiers serving its channel
    answer.

    :param message: what to send, to whom, on which channel.
    :return: a :class:`SendResult` when this notifier sent it, None when
        the channel is not this notifier's. Raise to report a failure.
    """


# --- access blocker ---------------------------------------------------------


@hookspec(firstresult=True)
def agnozys_block_access(change: AccessChange) -> bool | AccessResult | None:
    """Called in a job after a subscription is suspended.

    :param change: whose access to cut; ``change.type`` is
        ``access.blocked``.
    :return: True (or an :class:`AccessResult`) once the merchant's
        software confirmed. Raise (preferably
        :class:`AccessDeliveryFailed`) to have the delivery retried.

    Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def agnozys_unblock_access(
    change: AccessChange,
) -> bool | AccessResult | None:
    """Called in a job after a suspended subscription is reactivated.

    :param change: whose access to restore; ``change.type`` is
        ``access.unblocked``.
    :return: True (or an :class:`AccessResult`) once the merchant's
        software confirmed. Raise (preferably
        :class:`AccessDeliveryFailed`) to have the delivery retried.

    Stops at the first non-None result.
    """


# --- listeners --------------------------------------------------------------


@hookspec
def agnozys_invoice_paid(notice: InvoiceNotice) -> None:
    """Called in a job after an invoice is marked paid (gateway payment or
    accepted comprovante).

    :param notice: the paid invoice; ``data`` holds ``paid_at``,
        ``paid_amount`` and ``method``.
    :return: nothing. An exception is logged and does not undo the payment.
    """


@hookspec
def agnozys_invoice_rescheduled(notice: InvoiceNotice) -> None:
    """Called in a job after an invoice's due date moved.

    :param notice: the invoice with its new date; ``data`` holds the old
        date and amounts.
    :return: nothing.
    """


@hookspec
def agnozys_invoice_canceled(notice: InvoiceNotice) -> None:
    """Called in a job after an invoice is canceled.

    :param notice: the canceled invoice; ``data["reason"]`` says why.
    :return: nothing.
    """
