"""Which tickets a user sees (``Ticket.objects.visible_to``): the customers they may see, tickets without a
customer, and their own — also through the 全部-scope short cut the queues use at a million customers."""

from __future__ import annotations

from django.db.models import Q

from kehu.customers.models import Customer
from kehu.customers.services import customer_delete
from kehu.customers.tests.factories import make_customer
from kehu.service.models import Ticket

from .conftest import new_ticket


def _seen(actor) -> set[int]:
    return set(Ticket.objects.visible_to(actor).values_list("pk", flat=True))


def test_a_deleted_customers_tickets_are_hidden_except_from_their_handler(service):
    cast = service.cast
    live = new_ticket(service.lead, service.customer, assignee_id=service.agent2.pk)
    gone_customer = make_customer(cast.rep_east, name="鲁氏旧厂")
    gone_mine = new_ticket(service.lead, gone_customer, assignee_id=service.agent.pk)
    gone_other = new_ticket(service.lead, gone_customer, assignee_id=service.agent2.pk)
    caller = new_ticket(
        service.lead, service.customer, customer_id=None, caller_name="陌生来电", caller_phone="13700000000"
    )
    customer_delete(customer_id=gone_customer.pk, by=cast.admin)

    assert _seen(service.agent) == {live.pk, gone_mine.pk, caller.pk}
    assert _seen(service.agent2) == {live.pk, gone_other.pk, caller.pk}
    assert _seen(service.lead) == {live.pk, caller.pk}
    assert _seen(cast.rep_east) == {live.pk, caller.pk}
    assert _seen(cast.rep_west) == {caller.pk}
    # The 全部 short cut gives what the one customer rule gives.
    rule = Ticket.objects.filter(
        Q(customer__in=Customer.objects.visible_to(service.agent).values("pk"))
        | Q(customer__isnull=True)
        | Q(assignee=service.agent)
    )
    assert set(rule.values_list("pk", flat=True)) == _seen(service.agent)
