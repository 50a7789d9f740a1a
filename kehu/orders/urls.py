from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("contracts/", views.contract_list, name="contracts"),
    path("contracts/new/", views.contract_create, name="contract_create"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/attachments/", views.contract_attachment, name="contract_attachment"),
    path("contracts/<int:pk>/instalments/", views.instalment_add, name="instalment_add"),
    path("contracts/<int:pk>/<str:verb>/", views.contract_transition, name="contract_transition"),
    path("instalments/<int:pk>/edit/", views.instalment_edit, name="instalment_edit"),
    path("instalments/<int:pk>/delete/", views.instalment_delete, name="instalment_delete"),
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order_edit"),
    path("orders/<int:pk>/ship/", views.shipment_create, name="shipment_create"),
    path("orders/<int:pk>/<str:verb>/", views.order_transition, name="order_transition"),
    path("shipments/<int:pk>/deliver/", views.shipment_deliver, name="shipment_deliver"),
    path("shipments/<int:pk>/proofs/", views.shipment_proof, name="shipment_proof"),
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/new/", views.invoice_create, name="invoice_create"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/edit/", views.invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/files/", views.invoice_file, name="invoice_file"),
    path("invoices/<int:pk>/void/", views.invoice_void, name="invoice_void"),
    path("payments/", views.payment_list, name="payments"),
    path("payments/new/", views.payment_create, name="payment_create"),
    path("payments/<int:pk>/", views.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/edit/", views.payment_edit, name="payment_edit"),
    path("payments/<int:pk>/delete/", views.payment_delete, name="payment_delete"),
    path("payments/<int:pk>/proofs/", views.payment_proof, name="payment_proof"),
    path("receivables/", views.receivables, name="receivables"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
    path("documents/<int:pk>/delete/", views.document_delete, name="document_delete"),
    path("documents/customer/<int:customer_id>/", views.customer_documents, name="customer_documents"),
]
