from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("export.xlsx", views.overview_export, name="overview_export"),
    path("customers/", views.customer_list, name="customers"),
    path("customers/export.xlsx", views.customer_export, name="customer_export"),
    path("churn/", views.churn_list, name="churn"),
    path("funnel/", views.funnel, name="funnel"),
    path("funnel/export.xlsx", views.funnel_export, name="funnel_export"),
    path("relationship/", views.relationship, name="relationship"),
    path("relationship/export.xlsx", views.relationship_export, name="relationship_export"),
    path("settings/", views.settings_edit, name="settings"),
    path("refresh/", views.refresh_now, name="refresh"),
]
