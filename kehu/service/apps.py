from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "kehu.service"
    label = "service"
    verbose_name = _("客户服务与呼叫中心")

    def ready(self) -> None:
        # The customer's 360° page and the home page live in the customers domain, below this one.
        from kehu.customers.extensions import (
            DemoContributor,
            DetailTab,
            HomePanel,
            MergeMove,
            TimelineSource,
            register_demo_contributor,
            register_detail_tab,
            register_home_panel,
            register_merge_move,
            register_timeline_source,
        )

        from . import demo, selectors, tasks, views  # noqa: F401  (tasks registers the periodic jobs)
        from .services import customer_records_move

        register_merge_move(MergeMove(key="service", move=customer_records_move, order=40))

        register_detail_tab(
            DetailTab(key="tickets", label=_("服务工单"), render=views.customer_tickets_tab,
                      count=selectors.customer_ticket_count, order=50)
        )  # fmt: skip
        register_timeline_source(
            "tickets",
            TimelineSource(entries=selectors.timeline_entries, replaces_audit=(("ticket", "create"),)),
        )
        register_home_panel(HomePanel(key="service", render=views.home_panel, order=12))
        register_demo_contributor(DemoContributor(key="service", contribute=demo.contribute, order=70))
