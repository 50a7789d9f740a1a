from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "kehu.audit"
    label = "audit"
    verbose_name = _("审计")

    def ready(self) -> None:
        from kehu.core.events import DomainEvent, subscribe

        from .recorder import record

        subscribe(DomainEvent, record)
