from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("export/", views.customer_export, name="export"),
    path("duplicates/", views.duplicate_check, name="dup_check"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/transfer/", views.customer_transfer, name="transfer"),
    path("<int:pk>/classify/", views.customer_classify, name="classify"),
    path("<int:pk>/delete/", views.customer_delete, name="delete"),
    path("<int:pk>/reveal/", views.customer_reveal, name="reveal"),
    path("<int:pk>/merge/", views.customer_merge, name="merge"),
    path("<int:pk>/claim/", views.customer_claim, name="claim"),
    path("<int:pk>/release/", views.customer_release, name="release"),
    path("<int:pk>/assign/", views.customer_assign, name="assign"),
    path("<int:pk>/pool-lock/", views.customer_pool_lock, name="pool_lock"),
    path("pools/", views.pool_list, name="pools"),
    path("pools/new/", views.pool_edit, name="pool_create"),
    path("pools/<int:pool_id>/", views.pool_edit, name="pool_edit"),
    path("pools/recycle/", views.pool_recycle_now, name="pool_recycle"),
    path("<int:pk>/collaborators/", views.collaborator_add, name="collaborator_add"),
    path(
        "<int:pk>/collaborators/<int:user_id>/remove/", views.collaborator_remove, name="collaborator_remove"
    ),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/", views.contacts, name="contacts"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/delete/", views.contact_delete, name="contact_delete"),
    path("recycle-bin/", views.recycle_bin, name="recycle_bin"),
    path("recycle-bin/<int:pk>/restore/", views.customer_restore, name="restore"),
    path("recycle-bin/<int:pk>/purge/", views.customer_purge, name="purge"),
    path("options/", views.option_list, name="options"),
    path("options/<int:option_id>/toggle/", views.option_toggle, name="option_toggle"),
]
