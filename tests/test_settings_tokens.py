"""Configurações > Tokens da API: list, create (shown once), revoke; owners and
admins only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from agnozys import tenancy
from agnozys.extensions import db
from agnozys.models import ApiToken, Role, User

PASSWORD = "senha-de-admin-123"


def tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id)))


def shown_secret(html: str) -> str | None:
    match = re.search(r'id="new-token" value="(agz_[^"]+)"', html)
    return match.group(1) if match else None


def test_settings_index_leads_to_a_settings_page(staff):
    response = staff.get("/configuracoes/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/configuracoes/")


def test_the_page_lists_tokens_without_their_secrets(staff, api):
    token = tokens()[0]
    secret = api.headers["Authorization"].removeprefix("Bearer ")

    html = staff.get("/configuracoes/tokens").get_data(as_text=True)

    assert "Tokens da API" in html
    assert f'<tr id="token-{token.id}">' in html
    assert f"<code>{token.prefix}…</code>" in html
    assert "<td>test</td>" in html
    assert secret not in html


def test_creating_a_token_shows_it_once_and_it_works(staff, client, owner):
    response = staff.post("/configuracoes/tokens", data={"name": "ERP"})

    assert response.status_code == 201
    secret = shown_secret(response.get_data(as_text=True))
    assert secret is not None
    (token,) = tokens()
    assert token.name == "ERP"
    assert token.created_by_id == owner.id
    assert token.organization_id == owner.organization_id
    assert token.token_hash != secret and secret not in token.token_hash

    again = staff.get("/configuracoes/tokens").get_data(as_text=True)
    assert secret not in again
    assert token.prefix in again

    answer = client.get(
        "/api/v1/invoices", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 200


def test_the_token_records_when_it_was_last_used(staff, client):
    secret = shown_secret(
        staff.post("/configuracoes/tokens", data={"name": "ERP"}).get_data(as_text=True)
    )
    assert tokens()[0].last_used_at is None

    client.get("/api/v1/invoices", headers={"Authorization": f"Bearer {secret}"})

    db.session.expire_all()
    assert tokens()[0].last_used_at is not None
    assert "nunca" not in staff.get("/configuracoes/tokens").get_data(as_text=True)


def test_htmx_create_answers_with_the_fragment(staff):
    response = staff.post(
        "/configuracoes/tokens", data={"name": "Loja"}, headers={"HX-Request": "true"}
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 201
    assert html.lstrip().startswith('<section class="card" id="api-tokens">')
    assert "<html" not in html
    assert shown_secret(html)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Dê um nome ao token"),
        ("   ", "Dê um nome ao token"),
        ("x" * 121, "no máximo 120"),
        ("ERP\x00", "caracteres inválidos"),
    ],
)
def test_a_bad_name_is_explained_and_nothing_is_created(staff, name, message):
    response = staff.post("/configuracoes/tokens", data={"name": name})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert shown_secret(html) is None
    assert tokens() == []


def test_a_hostile_name_is_shown_escaped(staff):
    staff.post("/configuracoes/tokens", data={"name": "<script>alert(1)</script>"})

    html = staff.get("/configuracoes/tokens").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_revoking_a_token_stops_it_and_shows_it_revoked(staff, api):
    token = tokens()[0]

    response = staff.post(f"/configuracoes/tokens/{token.id}/revogar")

    assert response.status_code == 302
    db.session.expire_all()
    assert tokens()[0].revoked_at is not None
    assert api.get("/invoices").status_code == 401
    html = staff.get("/configuracoes/tokens").get_data(as_text=True)
    assert "Revogado" in html
    assert f"/configuracoes/tokens/{token.id}/revogar" not in html


def test_htmx_revoke_swaps_only_the_row(staff, api):
    token = tokens()[0]

    response = staff.post(
        f"/configuracoes/tokens/{token.id}/revogar", headers={"HX-Request": "true"}
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="token-{token.id}">')
    assert "Revogado" in html


def test_revoking_twice_is_harmless(staff, api):
    token = tokens()[0]
    staff.post(f"/configuracoes/tokens/{token.id}/revogar")
    first = tokens()[0].revoked_at

    response = staff.post(f"/configuracoes/tokens/{token.id}/revogar")

    assert response.status_code == 302
    db.session.expire_all()
    assert tokens()[0].revoked_at == first


def test_revoking_an_unknown_token_answers_404(staff):
    assert staff.post("/configuracoes/tokens/999999/revogar").status_code == 404


def make_member(org, role: Role) -> User:
    with tenancy.unscoped():
        user = User(
            organization_id=org.id, email=f"{role.value}@aurora.test", role=role
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    return user


def test_an_admin_may_manage_tokens(client, org):
    make_member(org, Role.ADMIN)
    client.post("/login", data={"email": "admin@aurora.test", "password": PASSWORD})

    assert client.get("/configuracoes/tokens").status_code == 200
    assert client.post("/configuracoes/tokens", data={"name": "x"}).status_code == 201


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_may_not_see_or_change_tokens(client, org, api, role):
    make_member(org, role)
    client.post(
        "/login", data={"email": f"{role.value}@aurora.test", "password": PASSWORD}
    )
    token = tokens()[0]

    assert client.get("/configuracoes/tokens").status_code == 403
    assert client.post("/configuracoes/tokens", data={"name": "x"}).status_code == 403
    assert client.post(f"/configuracoes/tokens/{token.id}/revogar").status_code == 403
    assert len(tokens()) == 1
    assert tokens()[0].revoked_at is None


def test_the_page_needs_a_login(client):
    response = client.get("/configuracoes/tokens")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_forms_carry_csrf_and_a_post_without_it_is_refused(make_app, org, owner, api):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        page = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert csrf is not None
        client.post(
            "/login",
            data={
                "email": owner.email,
                "password": "senha-de-teste-123",
                "csrf_token": csrf.group(1),
            },
        )
        html = client.get("/configuracoes/tokens").get_data(as_text=True)
        assert 'name="csrf_token"' in html

        refused = client.post("/configuracoes/tokens", data={"name": "sem csrf"})

    assert refused.status_code == 400
    assert len(tokens()) == 1


def test_htmx_create_with_a_bad_name_swaps_in_the_error(staff):
    # htmx 2 leaves the page alone on a 4xx, so the fragment comes with 200.
    response = staff.post(
        "/configuracoes/tokens", data={"name": ""}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Dê um nome ao token" in html
    assert "<html" not in html
    assert tokens() == []
