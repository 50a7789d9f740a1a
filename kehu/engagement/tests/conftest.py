from kehu.integrations.tests.servers import imap_server, smtp_server, smtp_session  # noqa: F401
