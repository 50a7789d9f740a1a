from django.urls import path

from . import views
from .mail import views as mail_views

app_name = "engagement"

urlpatterns = [
    path("interactions/", views.interaction_list, name="list"),
    path("interactions/new/<int:customer_id>/", views.interaction_create, name="create"),
    path("interactions/<int:pk>/edit/", views.interaction_edit, name="edit"),
    path("interactions/<int:pk>/delete/", views.interaction_delete, name="delete"),
    path("interactions/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path(
        "interactions/attachments/<int:attachment_id>/", views.attachment_download, name="attachment_download"
    ),
    path(
        "interactions/attachments/<int:attachment_id>/delete/",
        views.attachment_delete,
        name="attachment_delete",
    ),
    path("worklist/handled/", views.work_item_handle, name="work_item_handle"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/revisits/", views.revisit_plans, name="revisits"),
    path("tasks/revisits/<int:plan_id>/", views.revisit_plans, name="revisit_edit"),
    path("tasks/revisits/run/", views.revisit_run, name="revisit_run"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:pk>/delete/", views.task_delete, name="task_delete"),
    path(
        "tasks/<int:pk>/<str:verb>/", views.task_transition, name="task_transition"
    ),  # complete/cancel/reopen
    # e-mail (ENG-5)
    path("mail/", mail_views.inbox, name="mail_inbox"),
    path("mail/threads/<int:pk>/", mail_views.thread, name="mail_thread"),
    path("mail/threads/<int:pk>/assign/", mail_views.assign, name="mail_assign"),
    path("mail/messages/<int:pk>/reply/", mail_views.reply, name="mail_reply"),
    path("mail/messages/<int:pk>/no-reply/", mail_views.no_reply, name="mail_no_reply"),
    path(
        "mail/attachments/<int:mail_attachment_id>/", mail_views.attachment_download, name="mail_attachment"
    ),
    path("mail/mailboxes/", mail_views.mailboxes, name="mailboxes"),
    path("mail/mailboxes/<int:mailbox_id>/", mail_views.mailboxes, name="mailbox_edit"),
    path("mail/mailboxes/<int:mailbox_id>/fetch/", mail_views.mailbox_fetch, name="mailbox_fetch"),
    path("mail/mailboxes/<int:mailbox_id>/token/", mail_views.mailbox_token, name="mailbox_token"),
]
