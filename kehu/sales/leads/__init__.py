"""Leads (线索, SAL-1, CUS-4) and the fraudulent-inquiry check (虚盘识别, SAL-2).

Inbound inquiries arrive by manual entry, the public capture form (``capture``), e-mail from unknown
senders (``mail``) and imports (``importing``); they wait in the lead pool until someone claims them,
are screened (初步筛选), and are converted in one step into customer + contact + opportunity — or
discarded with a reason. Each lead carries a risk score from configurable rules (``rules`` pure,
``risk`` reading the database); a lead above the threshold is held for review before conversion or
sample sending.
"""
