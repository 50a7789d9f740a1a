"""Gap-tolerant named counters for human-readable codes (KH00000001)."""

from __future__ import annotations

from django.db import models, transaction


class Sequence(models.Model):
    name = models.CharField(max_length=40, primary_key=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        app_label = "core"

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


def next_values(name: str, count: int = 1) -> range:
    """Reserve ``count`` consecutive numbers of the sequence ``name`` (row-locked, so concurrent callers differ)."""
    with transaction.atomic():
        Sequence.objects.get_or_create(name=name)
        seq = Sequence.objects.select_for_update().get(name=name)
        start = seq.value + 1
        seq.value += count
        seq.save(update_fields=["value"])
    return range(start, start + count)
