"""The audit log: who issued, revoked, exported or changed what, and when."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from survey.extensions import db
from survey.models import AuditLog
from survey.models import User

ACTION_NAMES: dict[str, str] = {
    "login": "登录",
    "logout": "退出",
    "login_locked": "登录被锁定",
    "user_create": "创建账号",
    "user_password": "重设密码",
    "user_update": "修改账号",
    "user_unlock": "解锁账号",
    "point_issue": "发放点位",
    "point_batch": "批量发放点位",
    "point_revoke": "停用点位",
    "point_reactivate": "重新启用点位",
    "point_relabel": "修改点位名称",
    "region_create": "新增区域",
    "region_rename": "重命名区域",
    "region_import": "导入区域",
    "export_points": "导出点位统计",
    "export_qr": "导出二维码",
    "print_qr": "打印二维码",
    "population_import": "导入人口数",
    "target_set": "设置目标值",
    "target_clear": "删除目标值",
    "min_cell_set": "设置加权格最少答卷数",
    "flag_confirm": "确认答卷异常",
    "flag_clear": "排除答卷嫌疑",
    "point_window": "设置点位采集时段",
    "integrity_sweep": "质量扫描",
    "export_responses": "导出答卷",
    "problem_create": "新增整改问题",
    "problem_update": "修改整改问题",
    "export_problems": "导出整改台账",
    "paper_import": "导入纸质问卷",
    "paper_double": "纸质问卷双录入比对",
    "paper_settle": "核定双录入差异",
    "paper_discard": "作废双录入批次",
    "export_report": "导出报表",
    "export_codebook": "导出变量说明",
    "export_text": "导出开放题回答",
    "read_text": "查看开放题回答",
    "read_responses": "查看点位答卷",
    "export_population": "导出人口数",
    "api_read": "接口读取",
    "flag_propose_clear": "申请排除答卷嫌疑",
    "flag_reject_clear": "驳回排除申请",
}


def record(
    actor: User | None,
    action: str,
    object_type: str = "",
    object_id: str | int | None = None,
    actor_name: str | None = None,
    **detail: Any,
) -> AuditLog:
    """Append one audit entry (``actor`` None means the command line); flushes, no commit."""
    entry = AuditLog(
        user_id=actor.id if actor is not None else None,
        username=actor.username if actor is not None else (actor_name or "(命令行)"),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id)[:64],
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
        if detail
        else "",
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def recent(limit: int = 200, offset: int = 0, action: str | None = None) -> Sequence[AuditLog]:
    """Newest entries first, optionally one action only."""
    query = db.select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if action:
        query = query.where(AuditLog.action == action)
    return db.session.execute(query.limit(limit).offset(offset)).scalars().all()


def action_name(action: str) -> str:
    """Chinese label of an action code."""
    return ACTION_NAMES.get(action, action)
