from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "kehu.catalog"
    label = "catalog"
    verbose_name = _("产品目录")

    def ready(self) -> None:
        # ``kehu demo`` fills the catalogue too (ADR 0009): a contributor registered with the customers domain.
        from kehu.customers.extensions import DemoContributor, register_demo_contributor

        from . import demo

        register_demo_contributor(DemoContributor(key="catalog", contribute=demo.contribute, order=50))
