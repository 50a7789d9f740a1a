from django import template

from kehu.audit.changes import change_label as _change_label
from kehu.audit.verbs import verb_label as _verb_label

register = template.Library()


@register.filter
def verb_label(verb: str) -> str:
    """The audit verb as a reader sees it (``audit.verbs.VERB_LABELS``)."""
    return _verb_label(verb)


@register.filter
def change_label(key: str, subject_type: str = "") -> str:
    """A change's key as a reader sees it (``audit.changes.change_label``): the field's name."""
    return _change_label(key, subject_type)
