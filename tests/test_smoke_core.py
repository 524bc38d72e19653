from agnozys.models import Invoice


def test_login_and_home_redirects(staff, org):
    response = staff.get("/")
    assert response.status_code == 302


def test_overdue_fixture_is_overdue(overdue_invoice, org):
    from agnozys.services.invoices import figures

    result = figures(overdue_invoice)
    assert result.status == "overdue"
    assert (result.fine, result.interest, result.amount_due) == (2000, 1333, 103333)
    assert isinstance(overdue_invoice, Invoice)
