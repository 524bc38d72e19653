"""Reminder templates: checked when saved, rendered sandboxed when sent.

Staff write messages in Portuguese with a few placeholders, such as
``Olá, {{ cliente }}! {{ descricao }} vence em {{ vencimento }}``. A
template may use only the names in :data:`PLACEHOLDERS`, the filters in
:data:`FILTERS` and ``{% if nome %}...{% endif %}``: anything else
(attributes, calls, other tags) is refused when it is saved, so a bad
template never reaches the send job. Rendering still goes through Jinja's
sandbox, and every value handed to it is a plain string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

# name -> what it holds, as the editor explains it.
PLACEHOLDERS: dict[str, str] = {
    "cliente": "nome do cliente",
    "descricao": "descrição da cobrança",
    "valor": "valor devido hoje, como R$ 1.234,56",
    "vencimento": "data de vencimento, como 15/03/2026",
    "link": "link de pagamento",
    "numero": "número da cobrança",
    "empresa": "nome da sua empresa",
}
FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim"})
MAX_LENGTH = 2000

_ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Filter,
    nodes.If,
    nodes.Not,
)

_text_env = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    # Compiling costs far more than rendering, and a day's reminders
    # share a handful of step templates: compile each source once per
    # process. Keyed by the source itself, so an edited step is new.
    return _text_env.from_string(source)


class TemplateRefused(ValueError):
    """A template that uses something other than the allowed placeholders."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def check(source: str) -> str:
    """Return ``source`` when it is a safe template; raise :class:`TemplateRefused`.

    The message says, in Portuguese, what is wrong and what is allowed.
    """
    if len(source) > MAX_LENGTH:
        raise TemplateRefused(_("Use no máximo %(n)d caracteres.", n=MAX_LENGTH))
    try:
        tree = _text_env.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateRefused(
            _(
                "Modelo inválido na linha %(line)d: %(error)s",
                line=exc.lineno or 1,
                error=exc.message or "",
            )
        ) from exc
    allowed = ", ".join("{{ " + name + " }}" for name in PLACEHOLDERS)
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            raise TemplateRefused(
                _(
                    "Use apenas os campos %(allowed)s (e {%% if campo %%}). "
                    "Expressões e comandos do Jinja não são permitidos.",
                    allowed=allowed,
                )
            )
        if isinstance(node, nodes.Name) and node.name not in PLACEHOLDERS:
            raise TemplateRefused(
                _(
                    "Campo desconhecido: {{ %(name)s }}. Use um destes: %(allowed)s.",
                    name=node.name,
                    allowed=allowed,
                )
            )
        if isinstance(node, nodes.Filter) and node.name not in FILTERS:
            raise TemplateRefused(
                _(
                    "Filtro não permitido: %(name)s. Use um destes: %(filters)s.",
                    name=node.name,
                    filters=", ".join(sorted(FILTERS)),
                )
            )
        if isinstance(node, nodes.Filter) and (node.args or node.kwargs):
            raise TemplateRefused(_("Filtros não aceitam argumentos aqui."))
    return source


def render(subject: str, body: str, values: Mapping[str, str]) -> Rendered:
    """Render a step's subject and body for one invoice (text and HTML)."""
    context = {name: str(values.get(name, "")) for name in PLACEHOLDERS}
    text = _compiled(body).render(context)
    subject_text = " ".join(_compiled(subject).render(context).split())
    # Templates are plain text: the HTML part is the text, escaped.
    html_body = str(escape(text))
    link = context["link"]
    paragraphs = [p.strip() for p in html_body.split("\n\n") if p.strip()]
    html = "".join(
        Markup("<p>{}</p>").format(Markup(p.replace("\n", "<br>"))) for p in paragraphs
    )
    if link:
        # The link is clickable in the HTML part; the text part keeps it bare.
        escaped = str(escape(link))
        html = html.replace(escaped, str(Markup('<a href="{0}">{0}</a>').format(link)))
    page = Markup(
        '<!doctype html><html lang="pt-BR"><meta charset="utf-8">'
        "<title>{}</title><body>{}</body></html>"
    ).format(subject_text, Markup(html))
    return Rendered(subject=subject_text, text=text, html=str(page))
