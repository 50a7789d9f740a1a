import pytest
from kehu.customers.tests.factories import make_customer
from kehu.customers.models import Customer

@pytest.mark.django_db
def test_smoke(cast, api_as):
    c = make_customer(cast.rep_east)
    p = make_customer(cast.admin, owner=None)
    print(c.code, c.name, c.credit_code, c.search_text, p.owner)
    r = api_as(cast.rep_east).get("/api/v1/customers")
    print(r.status_code, r.json())
    r = api_as(cast.rep_east, language="en").post("/api/v1/customers", {"name": "x", "bogus": 1})
    print(r.status_code, r.json())
    r = api_as(cast.rep_east, language="en").post("/api/v1/customers", {"name": "", "mobile": "123"})
    print(r.status_code, r.json())
    r = api_as(cast.rep_east).get("/api/v1/docs")
    print(r.status_code, r.content.decode()[:3000])
