from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/retry/", views.job_retry, name="retry"),
    path("<int:pk>/file/", views.job_file, name="file"),
    path("periodic/<str:kind>/run/", views.periodic_run, name="periodic_run"),
    path("selftest/", views.selftest, name="selftest"),
]
