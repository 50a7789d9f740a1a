"""Lead pages (SAL-1, SAL-2); included into the sales URLs (namespace ``sales``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/pool/", views.lead_pool, name="lead_pool"),
    path("leads/new/", views.lead_create, name="lead_create"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/edit/", views.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/claim/", views.lead_claim, name="lead_claim"),
    path("leads/<int:pk>/assign/", views.lead_assign, name="lead_assign"),
    path("leads/<int:pk>/release/", views.lead_release, name="lead_release"),
    path("leads/<int:pk>/discard/", views.lead_discard, name="lead_discard"),
    path("leads/<int:pk>/review/", views.lead_review, name="lead_review"),
    path("leads/<int:pk>/convert/", views.lead_convert, name="lead_convert"),
    path(
        "leads/<int:pk>/<str:verb>/", views.lead_transition, name="lead_transition"
    ),  # screen/qualify/samples
    path("leads/settings/risk/", views.risk_rules, name="lead_risk_rules"),
    path("leads/settings/forms/", views.lead_forms, name="lead_forms"),
    path("leads/settings/forms/<int:form_id>/", views.lead_forms, name="lead_form_edit"),
    # Public (no sign-in): the hosted capture form a website embeds.
    path("f/leads/<str:token>/", views.capture_page, name="lead_capture_page"),
]
