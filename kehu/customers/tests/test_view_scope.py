"""A view scope (ANA-8) narrows ``visible_to`` to some owners' customers: ``visible_to(actor,
part="owned", owners=…)`` must be exactly the owned visible rows of those owners, for every cast member —
including owners outside the actor's data scope, seen only where the actor collaborates."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kehu.customers import services
from kehu.customers.models import Customer

from .factories import make_customer

pytestmark = pytest.mark.django_db

CAST = ("admin", "manager_east", "rep_east", "rep_east2", "rep_west", "agent", "auditor", "rm", "rm_junior")


def test_owners_narrow_the_owned_rows_and_nothing_else(cast: SimpleNamespace) -> None:
    east = make_customer(cast.rep_east)
    make_customer(cast.rep_east2)
    west = make_customer(cast.rep_west)
    make_customer(cast.rm_junior)
    pool = make_customer(cast.manager_east, owner=None)
    services.collaborator_set(customer_id=west.pk, user=cast.rep_east, can_edit=False, by=cast.admin)
    owner_sets = [{u.pk} for u in (cast.rep_east, cast.rep_east2, cast.rep_west, cast.rm_junior, cast.admin)]
    owner_sets += [{cast.rep_east.pk, cast.rep_west.pk}, {cast.rm.pk, cast.rm_junior.pk}]
    for name in CAST:
        actor = getattr(cast, name)
        for owners in owner_sets:
            narrowed = set(
                Customer.objects.visible_to(actor, part="owned", owners=owners).values_list("pk", flat=True)
            )
            expected = set(
                Customer.objects.visible_to(actor, part="owned")
                .filter(owner_id__in=owners)
                .values_list("pk", flat=True)
            )
            assert narrowed == expected, (name, owners)
            assert pool.pk not in narrowed
    # rep_east sees rep_west's customer only as its collaborator.
    assert set(
        Customer.objects.visible_to(cast.rep_east, part="owned", owners={cast.rep_west.pk}).values_list(
            "pk", flat=True
        )
    ) == {west.pk}
    assert east.pk in Customer.objects.visible_to(
        cast.rep_east, part="owned", owners={cast.rep_east.pk}
    ).values_list("pk", flat=True)
