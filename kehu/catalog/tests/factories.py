"""Products for tests, made through the real service."""

from __future__ import annotations

import io
from itertools import count
from typing import Any

_numbers = count(1)


def png_bytes(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (80, 60)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def make_product(by: Any, *, picture: bytes | None = None, **data: Any) -> Any:
    from kehu.catalog.services import product_create

    n = next(_numbers)
    values = {"code": f"P{n:05d}", "name": f"测试产品{n}", "price": "100.00", "cost": "60.00", **data}
    return product_create(data=values, picture=picture, by=by)
