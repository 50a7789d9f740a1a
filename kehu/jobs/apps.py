from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "kehu.jobs"
    label = "jobs"
    verbose_name = _("后台任务")

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (the task the queue carries, and the self-test job)
