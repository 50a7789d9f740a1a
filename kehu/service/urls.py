from django.urls import path

from . import views

app_name = "service"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("presence/", views.presence, name="presence"),
    path("bulk/", views.bulk, name="bulk"),
    path("tickets/new/", views.ticket_create, name="ticket_create"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:pk>/edit/", views.ticket_edit, name="ticket_edit"),
    path("tickets/<int:pk>/messages/", views.ticket_message, name="ticket_message"),
    path("tickets/<int:pk>/assign/", views.ticket_assign, name="ticket_assign"),
    path("tickets/<int:pk>/escalate/", views.ticket_escalate, name="ticket_escalate"),
    path("tickets/<int:pk>/<str:verb>/", views.ticket_transition, name="ticket_transition"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("calls/pop/", views.call_pop, name="call_pop"),
    path("calls/", views.call_handle, name="call_handle"),
    path("calls/incoming/", views.call_incoming, name="call_incoming"),
    path("reports/", views.reports, name="reports"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/general/", views.settings_save, name="settings_save"),
    path("settings/teams/", views.team_save, name="team_save"),
    path("settings/teams/<int:team_id>/members/", views.member_save, name="member_save"),
    path("settings/policies/", views.policy_save, name="policy_save"),
    path("settings/rules/", views.rule_save, name="rule_save"),
    path("settings/calendar/", views.calendar_save, name="calendar_save"),
]
