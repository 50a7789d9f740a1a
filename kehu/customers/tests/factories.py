"""Customers and contacts for tests and demo data, made through the real services.

``make_customer(by, **data)`` calls ``customer_create`` so that codes, search keys, normalised
names and derived classifications are exactly what production writes. Defaults are valid and
unique (name, credit code with a correct GB 32100 check character, mobile), and chosen so they do
not collide with the duplicate check or with the search terms tests use.
"""

from __future__ import annotations

import itertools
from typing import Any

import factory

from kehu.core.identity import credit_code_check_char, id_check_char
from kehu.customers import services
from kehu.customers.models import Contact, Customer

_counter = itertools.count(1)
# Syllables that make default names distinct enough that the similar-name check stays quiet.
_WORDS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"


def next_number() -> int:
    return next(_counter)


def unique_name(n: int | None = None) -> str:
    """A company name no other default name resembles (bigram similarity well under 0.8)."""
    n = next_number() if n is None else n
    a, b, c = _WORDS[n % 22], _WORDS[(n // 22) % 22], _WORDS[(n // 484) % 22]
    return f"样本{a}{b}{c}{n:05d}号商贸有限公司"


def credit_code(n: int | None = None) -> str:
    """A valid unified social credit code (digits only, correct check character)."""
    n = next_number() if n is None else n
    body = f"91310000{n:09d}"
    return body + credit_code_check_char(body)


def mobile(n: int | None = None) -> str:
    """A valid, unique mainland mobile number: 139 + 8 digits."""
    n = next_number() if n is None else n
    return f"139{n:08d}"


def id_number(n: int | None = None, *, birth: str = "19800101") -> str:
    """A valid resident ID number (Beijing 110105, given birth date, sequence from ``n``)."""
    n = next_number() if n is None else n
    body = f"110105{birth}{n % 1000:03d}"
    return body + id_check_char(body)


def customer_data(**data: Any) -> dict[str, Any]:
    """Valid, unique input for ``customer_create``; ``data`` overrides the defaults."""
    n = next_number()
    kind = data.get("kind", "company")
    defaults: dict[str, Any] = {"name": unique_name(n), "mobile": mobile(n)}
    if kind == "company":
        defaults["credit_code"] = credit_code(n)
    return {**defaults, **data}


def make_customer(by: Any, *, confirm_duplicates: bool = False, **data: Any) -> Customer:
    """Create a customer through ``customer_create`` as ``by`` (its owner unless ``owner=`` is given)."""
    return services.customer_create(data=customer_data(**data), by=by, confirm_duplicates=confirm_duplicates)


def make_contact(customer: Customer, by: Any, **data: Any) -> Contact:
    """Create a contact through ``contact_create`` as ``by``."""
    n = next_number()
    payload = {"name": f"联系人{n}", **data}
    return services.contact_create(customer_id=customer.pk, data=payload, by=by)


class CustomerFactory(factory.Factory):
    """factory_boy face of ``make_customer``: ``CustomerFactory(by=rep_east, name="华为技术有限公司")``."""

    class Meta:
        model = Customer

    by = None

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Customer:
        by = kwargs.pop("by")
        if by is None:
            raise ValueError("CustomerFactory needs by=<user>")
        confirm = kwargs.pop("confirm_duplicates", False)
        return make_customer(by, confirm_duplicates=confirm, **kwargs)

    @classmethod
    def _build(cls, model_class: type, *args: Any, **kwargs: Any) -> Customer:
        kwargs.pop("by", None)
        kwargs.pop("confirm_duplicates", None)
        return model_class(**customer_data(**kwargs))


class ContactFactory(factory.Factory):
    """``ContactFactory(customer=c, by=rep_east, name="张三")`` — through ``contact_create``."""

    class Meta:
        model = Contact

    customer = None
    by = None

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Contact:
        customer, by = kwargs.pop("customer"), kwargs.pop("by")
        return make_contact(customer, by, **kwargs)
