from django.urls import path  # noqa: F401  (the opportunity pages add their paths here)

from .quotes.urls import urlpatterns as quote_urlpatterns

app_name = "sales"

urlpatterns = [
    # quotes (SAL-5) and the letterhead
    *quote_urlpatterns,
]
