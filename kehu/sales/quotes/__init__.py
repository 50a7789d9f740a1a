"""Quotations (报价单, SAL-5): our letterhead, versioned quotes with their lines, the quote history for
judging a new quote against past ones, discount approval, and the PDF and Excel documents."""
