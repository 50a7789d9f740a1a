from django.urls import path

from . import views

app_name = "engagement"

urlpatterns = [
    path("", views.interaction_list, name="list"),
    path("new/<int:customer_id>/", views.interaction_create, name="create"),
    path("<int:pk>/edit/", views.interaction_edit, name="edit"),
    path("<int:pk>/delete/", views.interaction_delete, name="delete"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment_download"),
    path("attachments/<int:attachment_id>/delete/", views.attachment_delete, name="attachment_delete"),
]
