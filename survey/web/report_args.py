"""Query arguments of reports (dashboard page, chart downloads, JSON API) -> ReportRequest.

Malformed values (a date that is not ``YYYY-MM-DD`` or lies outside 2000-01-01..2100-12-31,
an id that is not a plain number, an unknown weighting or level) are a 400 with a message
saying which argument is wrong.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from werkzeug.datastructures import MultiDict

from survey.date_range import in_range
from survey.date_range import out_of_range_message
from survey.errors import InvalidInput
from survey.reporting.filters import SOURCE_NAMES
from survey.reporting.report_requests import ReportRequest
from survey.web.filters import int_arg

WEIGHTINGS = ("none", "poststratify", "rake")
LEVELS = ("district", "street", "community")
FLAGGED = {"": False, "exclude": False, "0": False, "include": True, "1": True}


def _date(args: MultiDict[str, str], name: str) -> dt.date | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw) if raw.isascii() and len(raw) == 10 else _bad(name)
    except ValueError:
        return _bad(name)
    if not in_range(day):
        raise InvalidInput(out_of_range_message(f"参数 {name}", day))
    return day


def _bad(name: str) -> Any:
    raise InvalidInput(f"参数 {name} 的日期格式应为 YYYY-MM-DD。")


def _choice(args: MultiDict[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = args.get(name, "").strip() or default
    if value not in allowed:
        raise InvalidInput(f"参数 {name} 只能是：{'、'.join(allowed)}。")
    return value


def report_request(args: MultiDict[str, str]) -> ReportRequest:
    """Parse the report query arguments (all optional)."""
    flagged = args.get("flagged", "").strip()
    if flagged not in FLAGGED:
        raise InvalidInput("参数 flagged 只能是 include 或 exclude。")
    return ReportRequest(
        questionnaire=args.get("questionnaire", "").strip()[:64],
        version_id=int_arg(args, "version"),
        date_from=_date(args, "from"),
        date_to=_date(args, "to"),
        region_id=int_arg(args, "region"),
        channel_id=int_arg(args, "channel"),
        weighting=_choice(args, "weighting", WEIGHTINGS, "none"),
        level=_choice(args, "level", LEVELS, "district"),
        include_flagged=FLAGGED[flagged],
        source=_choice(args, "source", ("", *SOURCE_NAMES), "") or None,
    )


def request_args(req: ReportRequest) -> dict[str, Any]:
    """Query arguments that reproduce ``req`` (links to charts, exports and the API)."""
    out: dict[str, Any] = {
        "questionnaire": req.questionnaire,
        "version": req.version_id,
        "from": req.date_from.isoformat() if req.date_from else None,
        "to": req.date_to.isoformat() if req.date_to else None,
        "region": req.region_id,
        "channel": req.channel_id,
        "weighting": req.weighting if req.weighting != "none" else None,
        "level": req.level if req.level != "district" else None,
        "flagged": "include" if req.include_flagged else None,
        "source": req.source,
    }
    return {k: v for k, v in out.items() if v not in (None, "")}
