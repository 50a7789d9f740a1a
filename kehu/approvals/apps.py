from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "kehu.approvals"
    label = "approvals"
    verbose_name = _("审批")

    def ready(self) -> None:
        # The 待办 list lives in engagement, below this domain: plug the 待我审批 section in from here.
        from kehu.engagement.worklist import WorkListSource, register_worklist_source

        from . import selectors

        register_worklist_source(
            WorkListSource(
                kind="approval_pending", label=_("待我审批"), section=selectors.worklist_section, order=10
            )
        )
