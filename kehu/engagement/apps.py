from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "kehu.engagement"
    label = "engagement"
    verbose_name = _("沟通与跟进")

    def ready(self) -> None:
        # The customer's 360° page lives in the customers domain, below this one: plug in from here.
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

        from . import demo, selectors, tasks, views  # noqa: F401  (tasks registers the background jobs)
        from .mail import selectors as mail_selectors
        from .mail import views as mail_views
        from .services import customer_records_move

        register_merge_move(MergeMove(key="engagement", move=customer_records_move, order=10))

        register_timeline_source(
            "interactions",
            TimelineSource(entries=selectors.timeline_entries, replaces_audit=(("interaction", "create"),)),
        )
        register_detail_tab(
            DetailTab(
                key="interactions",
                label=_("跟进记录"),
                render=views.customer_interactions_tab,
                count=selectors.interaction_count,
                order=10,
            )
        )
        register_detail_tab(
            DetailTab(
                key="tasks",
                label=_("任务"),
                render=views.customer_tasks_tab,
                count=selectors.task_count,
                order=20,
            )
        )
        register_timeline_source(
            "mail",
            TimelineSource(
                entries=mail_selectors.timeline_entries,
                replaces_audit=(("mail_message", "receive"), ("mail_message", "reply")),
            ),
        )
        register_detail_tab(
            DetailTab(
                key="mail",
                label=_("邮件"),
                render=mail_views.customer_mail_tab,
                count=mail_selectors.customer_mail_count,
                order=15,
            )
        )
        register_home_panel(HomePanel(key="worklist", render=views.worklist_panel, order=10))
        register_home_panel(HomePanel(key="dashboard", render=views.dashboard_panel, order=20))
        register_demo_contributor(DemoContributor(key="engagement", contribute=demo.contribute))
