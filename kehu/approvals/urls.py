from django.urls import path

from . import views

app_name = "approvals"

urlpatterns = [
    path("", views.approval_list, name="list"),
    path("submit/", views.approval_submit, name="submit"),
    path("<int:pk>/", views.approval_detail, name="detail"),
    path("<int:pk>/withdraw-from-panel/", views.panel_withdraw, name="panel_withdraw"),
    path("<int:pk>/<str:verb>/", views.approval_decide, name="decide"),  # approve / reject / withdraw
    path("flows/", views.flow_list, name="flows"),
    path("flows/new/", views.flow_edit, name="flow_create"),
    path("flows/<int:flow_id>/", views.flow_edit, name="flow_edit"),
    path("flows/<int:flow_id>/deactivate/", views.flow_deactivate, name="flow_deactivate"),
]
