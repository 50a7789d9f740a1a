"""Customer-domain errors with stable codes."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.core.errors import Conflict


class DuplicateFound(Conflict):
    """Likely duplicates exist (CUS-5). ``matches`` says only what the actor may know about each."""

    code = "duplicate"

    def __init__(self, matches: list[Any], *, blocking: bool) -> None:
        self.matches = matches
        self.blocking = blocking
        message = (
            _("已存在统一社会信用代码相同的客户，不能重复创建")
            if blocking
            else _("发现疑似重复的客户，请确认后再保存")
        )
        super().__init__(message, field="credit_code" if blocking else "name")

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        body["matches"] = [m.as_dict() for m in self.matches]
        body["blocking"] = self.blocking
        return body
