from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from kehu.core import views as core_views
from kehu.customers import views as customer_views

from .api import api

urlpatterns = [
    path("", customer_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("ping", core_views.bare_json, name="ping"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("accounts/", include("kehu.access.urls")),
    path("customers/", include("kehu.customers.urls")),
    path("", include("kehu.engagement.urls")),  # interactions/…, tasks/…
    path("sales/", include("kehu.sales.urls")),
    path("products/", include("kehu.catalog.urls")),
    path("", include("kehu.orders.urls")),  # contracts/…, orders/…, invoices/…, payments/…, receivables/
    path("audit/", include("kehu.audit.urls")),
    path("imports/", include("kehu.imports.urls")),
    path("jobs/", include("kehu.jobs.urls")),
    path("notifications/", include("kehu.notifications.urls")),
    path("targets/", include("kehu.targets.urls")),
    path("analytics/", include("kehu.analytics.urls")),
    path("service/", include("kehu.service.urls")),
    path("approvals/", include("kehu.approvals.urls")),
    path("django-admin/", admin.site.urls),
]

handler403 = "kehu.core.views.handler403"
handler404 = "kehu.core.views.handler404"
handler500 = "kehu.core.views.handler500"
