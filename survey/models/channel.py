"""Publicity channels a collection point carries."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from survey.models.base import Base
from survey.models.base import intpk

# (code, Chinese name, kind): "place" is a physical location, "push" a message pushed to people.
DEFAULT_CHANNELS: tuple[tuple[str, str, str], ...] = (
    ("wechat", "微信公众号", "push"),
    ("notice_board", "社区公告栏", "place"),
    ("school", "学校", "place"),
    ("enterprise", "企业", "place"),
    ("agency", "机关单位", "place"),
    ("door_to_door", "入户走访", "place"),
    ("market", "农贸市场/商场", "place"),
    ("transit", "公交站/地铁站", "place"),
    ("hospital", "医院", "place"),
    ("service_window", "政务服务窗口", "place"),
    ("media", "报纸/电视/手机报", "push"),
)


class Channel(Base):
    """A channel (微信公众号, 社区公告栏, ...); the defaults are seeded, more can be added."""

    __tablename__ = "channels"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10), default="place")
    builtin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<Channel {self.code}>"
