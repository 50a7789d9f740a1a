from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TargetsConfig(AppConfig):
    name = "kehu.targets"
    label = "targets"
    verbose_name = _("销售目标")

    def ready(self) -> None:
        # The home page belongs to a lower domain: the progress card plugs in from here (ADR 0007).
        from kehu.customers.extensions import HomePanel, register_home_panel

        from . import views

        register_home_panel(HomePanel(key="targets", render=views.home_panel, order=15))
