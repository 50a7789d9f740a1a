from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kehu.sales"
    label = "sales"
    verbose_name = _("销售")

    def ready(self) -> None:
        # Leads (SAL-1): inbound mail from unknown senders becomes a lead. Engagement, below sales,
        # announces received mail as an event; sales subscribes (architecture.md: never import upward).
        from kehu.core.events import subscribe
        from kehu.customers.extensions import DemoContributor, register_demo_contributor
        from kehu.engagement.events import MailChanged

        from .leads import demo as lead_demo
        from .leads import mail as lead_mail

        subscribe(MailChanged, lead_mail.on_mail_events)
        register_demo_contributor(DemoContributor(key="leads", contribute=lead_demo.contribute, order=200))
