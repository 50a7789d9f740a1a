"""Quote pages (SAL-5), included by ``kehu/sales/urls.py`` into the ``sales`` namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("quotes/", views.quote_list, name="quote_list"),
    path("quotes/new/", views.quote_create, name="quote_create"),
    path("quotes/history/", views.history_panel, name="quote_history"),
    path("quotes/letterhead/", views.letterhead, name="letterhead"),
    path("quotes/letterhead/logo/", views.letterhead_logo, name="letterhead_logo"),
    path("quotes/<int:pk>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/edit/", views.quote_edit, name="quote_edit"),
    path("quotes/<int:pk>/lines/", views.line_add, name="quote_line_add"),
    path("quotes/<int:pk>/lines/<int:line_id>/", views.line_edit, name="quote_line_edit"),
    path("quotes/<int:pk>/lines/<int:line_id>/delete/", views.line_delete, name="quote_line_delete"),
    path("quotes/<int:pk>/revise/", views.quote_revise, name="quote_revise"),
    path("quotes/<int:pk>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("quotes/<int:pk>/xlsx/", views.quote_xlsx, name="quote_xlsx"),
    path(
        "quotes/<int:pk>/<str:verb>/", views.quote_transition, name="quote_transition"
    ),  # send/accept/reject/expire
    path("quotes/line-pictures/<int:line_id>/", views.line_picture, name="quote_line_picture"),
]
