"""Pages of the sales domain. The pipeline's (SAL-3, SAL-4) are listed here; the leads and quotes
packages add theirs."""

from django.urls import path

from . import views
from .leads.urls import urlpatterns as lead_urlpatterns
from .quotes.urls import urlpatterns as quote_urlpatterns

app_name = "sales"

urlpatterns = [
    path("opportunities/", views.opportunity_list, name="list"),
    path("opportunities/new/", views.opportunity_create, name="create"),
    path("opportunities/customers/", views.customer_options, name="customer_options"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="edit"),
    path("opportunities/<int:pk>/lines/", views.line_save, name="line_add"),
    path("opportunities/<int:pk>/lines/<int:line_id>/", views.line_save, name="line_edit"),
    path("opportunities/<int:pk>/lines/<int:line_id>/delete/", views.line_remove, name="line_remove"),
    path("opportunities/<int:pk>/buying-centre/", views.member_save, name="member_add"),
    path("opportunities/<int:pk>/buying-centre/<int:member_id>/", views.member_save, name="member_edit"),
    path(
        "opportunities/<int:pk>/buying-centre/<int:member_id>/delete/",
        views.member_remove,
        name="member_remove",
    ),
    path("opportunities/<int:pk>/competitors/", views.competitor_save, name="competitor_add"),
    path(
        "opportunities/<int:pk>/competitors/<int:competitor_id>/",
        views.competitor_save,
        name="competitor_edit",
    ),
    path(
        "opportunities/<int:pk>/competitors/<int:competitor_id>/delete/",
        views.competitor_remove,
        name="competitor_remove",
    ),
    # move / win / lose / invalidate / reopen / transfer / delete
    path("opportunities/<int:pk>/<str:verb>/", views.opportunity_transition, name="transition"),
    path("board/", views.board, name="board"),
    path("board/move/<int:pk>/", views.board_move, name="board_move"),
    path("board/<int:group_id>/stages/<int:stage_id>/cards/", views.board_column, name="board_column"),
    path("forecast/", views.forecast, name="forecast"),
    path("stage-groups/", views.stage_groups, name="stage_groups"),
    path("stage-groups/new/", views.stage_group_edit, name="stage_group_create"),
    path("stage-groups/<int:group_id>/", views.stage_group_edit, name="stage_group_edit"),
    # quotes (SAL-5) and the letterhead
    *quote_urlpatterns,
    # leads (SAL-1, SAL-2)
    *lead_urlpatterns,
]
