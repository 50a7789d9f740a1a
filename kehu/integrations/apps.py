from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """Adapters to the outside world (e-mail today); no models and no business rules."""

    name = "kehu.integrations"
    label = "integrations"
    verbose_name = _("外部集成")
