from django import template

from kehu.audit.verbs import verb_label as _verb_label

register = template.Library()


@register.filter
def verb_label(verb: str) -> str:
    """The audit verb as a reader sees it (``audit.verbs.VERB_LABELS``)."""
    return _verb_label(verb)
