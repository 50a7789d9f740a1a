from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "kehu.orders"
    label = "orders"
    verbose_name = _("合同、订单与回款")

    def ready(self) -> None:
        # The customer's 360° page and ``kehu demo`` live in the customers domain, below this one.
        from kehu.customers.extensions import (
            DemoContributor,
            DetailTab,
            MergeMove,
            TimelineSource,
            register_demo_contributor,
            register_detail_tab,
            register_merge_move,
            register_timeline_source,
        )

        from . import demo, selectors, tasks, views  # noqa: F401  (tasks registers the periodic jobs)
        from .services import customer_records_move

        register_merge_move(MergeMove(key="orders", move=customer_records_move, order=30))

        register_detail_tab(
            DetailTab(key="contracts", label=_("合同"), render=views.customer_contracts_tab,
                      count=selectors.customer_contract_count, order=40)
        )  # fmt: skip
        register_detail_tab(
            DetailTab(key="orders", label=_("订单"), render=views.customer_orders_tab,
                      count=selectors.customer_order_count, order=41)
        )  # fmt: skip
        register_detail_tab(
            DetailTab(key="payments", label=_("回款"), render=views.customer_payments_tab,
                      count=selectors.customer_payment_count, order=42)
        )  # fmt: skip
        register_detail_tab(
            DetailTab(key="documents", label=_("单据"), render=views.customer_documents_tab,
                      count=selectors.customer_document_count, order=43)
        )  # fmt: skip
        register_timeline_source(
            "orders",
            TimelineSource(entries=selectors.timeline_entries, replaces_audit=(("order", "create"),)),
        )
        register_demo_contributor(DemoContributor(key="orders", contribute=demo.contribute, order=60))

        # Contracts, invoices and payment records go through the approval engine (审批, below this domain).
        from kehu.access.perms import Perm
        from kehu.approvals.registry import DocumentType, register_document_type

        from . import approval

        register_document_type(
            DocumentType(key="contract", label=_("合同"), load=approval.load_contract,
                         describe=approval.describe_contract, on_status=approval.on_contract_status,
                         submit_perm=Perm.CONTRACT_EDIT)
        )  # fmt: skip
        register_document_type(
            DocumentType(key="invoice", label=_("发票"), load=approval.load_invoice,
                         describe=approval.describe_invoice, on_status=approval.on_invoice_status,
                         submit_perm=Perm.INVOICE_EDIT)
        )  # fmt: skip
        register_document_type(
            DocumentType(key="payment", label=_("回款"), load=approval.load_payment,
                         describe=approval.describe_payment, on_status=approval.on_payment_status,
                         submit_perm=Perm.PAYMENT_EDIT)
        )  # fmt: skip
