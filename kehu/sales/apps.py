from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kehu.sales"
    label = "sales"
    verbose_name = _("销售")

    def ready(self) -> None:
        # The customer's 360° page lives in the customers domain, below this one: plug in from here.
        from kehu.customers.extensions import (
            DemoContributor,
            DetailTab,
            TimelineSource,
            register_demo_contributor,
            register_detail_tab,
            register_timeline_source,
        )

        from .quotes import demo as quote_demo
        from .quotes import selectors as quote_selectors
        from .quotes import views as quote_views

        register_detail_tab(
            DetailTab(
                key="quotes",
                label=_("报价"),
                render=quote_views.customer_quotes_tab,
                count=quote_selectors.customer_quote_count,
                order=40,
            )
        )
        # The catalogue beside customers may not import it: sales registers the catalogue's demo (ADR 0009).
        register_demo_contributor(DemoContributor(key="catalog", contribute=quote_demo.contribute, order=50))
        register_demo_contributor(
            DemoContributor(key="quotes", contribute=quote_demo.contribute_quotes, order=60)
        )
        register_timeline_source(
            "quotes",
            TimelineSource(
                entries=quote_selectors.timeline_entries,
                replaces_audit=tuple(("quote", verb) for verb in quote_selectors.QUOTE_VERBS),
            ),
        )
