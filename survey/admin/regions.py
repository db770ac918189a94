"""Region tree: view, add, rename, import from CSV/XLSX."""

from __future__ import annotations

from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue

from survey.admin import bp
from survey.admin.forms import ImportForm
from survey.admin.forms import RegionForm
from survey.admin.forms import RenameForm
from survey.admin.helpers import region_choices
from survey.admin.helpers import staff
from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import Region
from survey.services import access
from survey.services import audit
from survey.services.region_import import ImportFileError
from survey.services.region_import import import_regions
from survey.services.regions import CHILD_LEVEL
from survey.services.regions import create_region


def _tree_page(
    form: RegionForm | None = None, status: int = 200, error: str | None = None
) -> ResponseReturnValue:
    user = staff()
    regions = list(db.session.execute(access.visible_regions_select(user)).scalars())
    point_counts = dict(
        db.session.execute(
            db.select(CollectionPoint.region_id, db.func.count(CollectionPoint.id)).group_by(
                CollectionPoint.region_id
            )
        ).all()
    )
    form = form or RegionForm()
    form.parent_id.choices = region_choices(user, ("city", "district", "street"))
    top_depth = min((len(r.ancestor_ids()) for r in regions), default=1)
    rows = [(r, len(r.ancestor_ids()) - top_depth) for r in regions]
    return (
        render_template(
            "admin/regions.html",
            rows=rows,
            form=form,
            rename_form=RenameForm(),
            point_counts=point_counts,
            error=error,
        ),
        status,
    )


@bp.get("/regions")
def regions() -> ResponseReturnValue:
    """The region tree in the user's scope."""
    return _tree_page()


@bp.post("/regions")
def region_create() -> ResponseReturnValue:
    """Add a region under a parent the user may see."""
    user = staff()
    form = RegionForm()
    form.parent_id.choices = region_choices(user, ("city", "district", "street"))
    if not form.validate_on_submit():
        return _tree_page(form, 400)
    parent = access.region_or_404(user, form.parent_id.data)
    level = CHILD_LEVEL.get(parent.level)
    code = (form.code.data or "").strip()
    if level is None:
        return _tree_page(form, 400, f"“{parent.name}”是最低一级，不能再添加下级区域。")
    if db.session.execute(db.select(Region.id).where(Region.code == code)).first():
        return _tree_page(form, 400, f"编码 {code} 已存在。")
    region = create_region(code, (form.name.data or "").strip(), level, parent)
    audit.record(user, "region_create", "region", region.id, code=code, name=region.name)
    db.session.commit()
    flash(f"已添加{region.level_name}：{region.name}", "ok")
    return redirect(url_for("admin.regions") + f"#r{region.id}")


@bp.post("/regions/<int:region_id>/rename")
def region_rename(region_id: int) -> ResponseReturnValue:
    """Rename a region the user may see."""
    user = staff()
    region = access.region_or_404(user, region_id)
    form = RenameForm()
    if not form.validate_on_submit():
        return _tree_page(status=400, error="请输入新名称（不超过 100 个字）。")
    old = region.name
    region.name = (form.name.data or "").strip()
    db.session.flush()
    audit.record(user, "region_rename", "region", region.id, old=old, new=region.name)
    db.session.commit()
    flash(f"已将“{old}”改名为“{region.name}”", "ok")
    return redirect(url_for("admin.regions") + f"#r{region.id}")


@bp.route("/regions/import", methods=["GET", "POST"])
def region_import() -> ResponseReturnValue:
    """Upload a region file; every bad row is reported and nothing is written."""
    user = staff()
    form = ImportForm()
    if not form.is_submitted():
        return render_template("admin/region_import.html", form=form)
    access.require_city_admin(user)  # the tree's shape is a city-wide decision
    if not form.validate():
        return render_template("admin/region_import.html", form=form), 400
    upload = form.file.data
    try:
        report = import_regions(upload.filename or "upload.csv", upload.read(), actor=user)
    except ImportFileError as exc:
        db.session.rollback()
        return render_template("admin/region_import.html", form=form, file_error=str(exc)), 400
    if not report.ok:
        db.session.rollback()
        return render_template("admin/region_import.html", form=form, report=report), 400
    db.session.commit()
    flash(f"导入完成：新增 {report.created} 个区域，{report.unchanged} 个已存在未变。", "ok")
    return redirect(url_for("admin.regions"))
