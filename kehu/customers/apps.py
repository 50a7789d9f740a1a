from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kehu.customers"
    label = "customers"
    verbose_name = _("客户")

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the background jobs)
