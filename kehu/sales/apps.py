from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kehu.sales"
    label = "sales"
    verbose_name = _("销售")

    def ready(self) -> None:
        # The customer's 360° page lives in the customers domain, below this one: plug in from here.
        # Leads (SAL-1): inbound mail from unknown senders becomes a lead. Engagement, below sales,
        # announces received mail as an event; sales subscribes (architecture.md: never import upward).
        from kehu.core.events import subscribe
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
        from kehu.engagement.events import MailChanged

        from . import demo, selectors, tasks, views  # noqa: F401  (tasks registers the periodic jobs)
        from .leads import demo as lead_demo
        from .leads import mail as lead_mail
        from .services import customer_records_move

        register_merge_move(MergeMove(key="sales", move=customer_records_move, order=20))

        subscribe(MailChanged, lead_mail.on_mail_events)
        register_demo_contributor(DemoContributor(key="leads", contribute=lead_demo.contribute, order=200))

        register_timeline_source(
            "stage_changes",
            TimelineSource(
                entries=selectors.timeline_entries,
                # The stage-change rows draw these better than the audit line (from → to, by whom).
                replaces_audit=(
                    ("opportunity", "create"),
                    ("opportunity", "stage"),
                    ("opportunity", "won"),
                    ("opportunity", "lost"),
                    ("opportunity", "invalidate"),
                    ("opportunity", "reopen"),
                ),
            ),
        )
        register_detail_tab(
            DetailTab(
                key="opportunities",
                label=_("商机"),
                render=views.customer_opportunities_tab,
                count=selectors.customer_opportunity_count,
                order=30,
            )
        )
        register_demo_contributor(DemoContributor(key="sales", contribute=demo.contribute, order=50))

        # Quotations (SAL-5): the 报价 tab and the quote entries of the timeline.
        from .quotes import demo as quote_demo
        from .quotes import selectors as quote_selectors
        from .quotes import views as quote_views

        register_detail_tab(
            DetailTab(
                key="quotes",
                label=_("报价"),
                render=quote_views.customer_quotes_tab,
                count=quote_selectors.customer_quote_count,
                order=40,
            )
        )
        # The catalogue beside customers may not import it: sales registers the catalogue's demo (ADR 0009),
        # before the pipeline's so that opportunities can have product lines.
        register_demo_contributor(DemoContributor(key="catalog", contribute=quote_demo.contribute, order=45))
        register_demo_contributor(
            DemoContributor(key="quotes", contribute=quote_demo.contribute_quotes, order=60)
        )
        register_timeline_source(
            "quotes",
            TimelineSource(
                entries=quote_selectors.timeline_entries,
                replaces_audit=tuple(("quote", verb) for verb in quote_selectors.QUOTE_VERBS),
            ),
        )

        # A quote whose discount goes beyond the letterhead's threshold needs approval (SAL-5).
        from kehu.access.perms import Perm
        from kehu.approvals.registry import DocumentType, register_document_type

        from .quotes import approval as quote_approval

        register_document_type(
            DocumentType(
                key="quote",
                label=_("报价单折扣"),
                load=quote_approval.load_quote,
                describe=quote_approval.describe_quote,
                on_status=quote_approval.on_quote_status,
                needs_approval=quote_approval.needs_approval,
                submit_perm=Perm.QUOTE_EDIT,
            )
        )
