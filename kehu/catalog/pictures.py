"""Uploaded pictures (product pictures, the letterhead logo): checked with Pillow before they are stored.

A file is accepted only when Pillow recognises it as one of :data:`FORMATS` and it is within the size
limits; its extension is the one of the format found, never the one of the uploaded name, so a script
named ``x.png`` is refused and a PNG named ``x.exe`` is stored as ``.png``."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kehu.core.errors import ValidationError

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 6000  # per side: larger pictures only slow the PDF down
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "GIF": ("gif", "image/gif"),
           "WEBP": ("webp", "image/webp")}  # fmt: skip


@dataclass(frozen=True)
class Picture:
    data: bytes
    extension: str
    content_type: str
    width: int
    height: int


def check_picture(data: bytes, *, field: str = "picture") -> Picture:
    """``data`` as a checked picture, or a ``ValidationError`` naming ``field``."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ValidationError(_("请选择图片文件"), field=field)
    if len(data) > MAX_BYTES:
        raise ValidationError(_("图片不能超过 5 MB"), field=field)
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            width, height = image.size
            image.verify()  # reads the whole file: a truncated or corrupt picture fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("无法识别的图片，请上传 JPG、PNG、GIF 或 WebP 图片"), field=field) from None
    if kind not in FORMATS:
        raise ValidationError(_("只支持 JPG、PNG、GIF 或 WebP 图片"), field=field)
    if width > MAX_PIXELS or height > MAX_PIXELS:
        raise ValidationError(_("图片尺寸过大（每边最多 %(n)s 像素）"), field=field, params={"n": MAX_PIXELS})
    extension, content_type = FORMATS[kind]
    return Picture(data=data, extension=extension, content_type=content_type, width=width, height=height)


def content_type_of(name: str) -> str:
    """The content type of a stored picture, from the extension it was stored with."""
    extension = name.rsplit(".", 1)[-1].lower()
    for ext, content_type in FORMATS.values():
        if ext == extension:
            return content_type
    return "application/octet-stream"
