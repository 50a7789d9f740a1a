from .leads.urls import urlpatterns as lead_urlpatterns

app_name = "sales"

urlpatterns = [
    # leads (SAL-1, SAL-2)
    *lead_urlpatterns,
]
