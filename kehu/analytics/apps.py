from collections.abc import Callable
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "kehu.analytics"
    label = "analytics"
    verbose_name = _("客户分析")

    def ready(self) -> None:
        # The customer pages live in the customers domain, below this one: plug in from here (ADR 0007).
        from kehu.access.perms import Perm
        from kehu.access.scope import can
        from kehu.customers.extensions import (
            DemoContributor,
            DetailTab,
            ListFilter,
            register_demo_contributor,
            register_detail_tab,
            register_list_filter,
        )

        from . import demo, tasks, views  # noqa: F401  (tasks registers the refresh job and its nightly slot)
        from .models import LifecycleChoice, RFMClassChoice
        from .selectors import score_filter_q

        def may_view(actor: Any) -> bool:
            return can(actor, Perm.ANALYTICS_VIEW)

        def condition(key: str) -> Callable[[str], Any]:
            return lambda value: score_filter_q({key: value})

        def rfm_choices() -> list[tuple[str, Any]]:
            return list(RFMClassChoice.choices)

        def lifecycle_choices() -> list[tuple[str, Any]]:
            return list(LifecycleChoice.choices)

        def churn_choices() -> list[tuple[str, Any]]:
            return [("1", _("有流失风险")), ("0", _("无流失风险"))]

        def no_choices() -> list[tuple[str, Any]]:
            return []

        page_filters = (
            ("rfm_class", _("RFM 分类"), rfm_choices),
            ("lifecycle", _("生命周期"), lifecycle_choices),
            ("churn", _("流失风险"), churn_choices),
        )
        for order, (key, label, choices) in enumerate(page_filters):
            register_list_filter(
                ListFilter(
                    key=key,
                    label=label,
                    choices=choices,
                    allowed=may_view,
                    order=order,
                    condition=condition(key),
                )
            )
        api_filters = (
            ("clv_min", _("终身价值不低于")),
            ("clv_max", _("终身价值不高于")),
            ("p_alive_max", _("仍活跃概率不高于")),
        )
        for key, label in api_filters:
            register_list_filter(
                ListFilter(
                    key=key,
                    label=label,
                    choices=no_choices,
                    allowed=may_view,
                    on_page=False,
                    condition=condition(key),
                )
            )
        register_detail_tab(
            DetailTab(key="analytics", label=_("客户价值"), render=views.customer_value_tab, order=15)
        )
        # After every other domain's demo records: score them so the analytics pages have figures.
        register_demo_contributor(DemoContributor(key="analytics", contribute=demo.contribute, order=900))
