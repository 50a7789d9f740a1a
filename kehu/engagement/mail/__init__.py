"""E-mail with customers (ENG-5): mailboxes, inbound mail matched to customers and contacts, threads,
replies sent from Kehu, and first-response times against the 24-hour rule.

The outside world (IMAP, SMTP, RFC 822) is ``kehu.integrations.mail``; the business is here:
``services`` (writes), ``selectors`` (reads from ``visible_to``), ``api`` and ``views`` (thin).
"""
