from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.product_list, name="list"),
    path("new/", views.product_create, name="create"),
    path("picker/", views.product_picker, name="picker"),
    path("<int:pk>/", views.product_detail, name="detail"),
    path("<int:pk>/edit/", views.product_edit, name="edit"),
    path("<int:pk>/picture/", views.product_picture, name="picture"),
    path("<int:pk>/<str:verb>/", views.product_toggle, name="toggle"),  # deactivate / reactivate
]
