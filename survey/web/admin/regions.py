"""Region tree: view, add, rename, import from CSV/XLSX."""

from __future__ import annotations

from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue

from survey.errors import SurveyError
from survey.services import access
from survey.services import transaction
from survey.services.choices import region_choices
from survey.services.region_import import import_regions
from survey.services.regions import add_child_region
from survey.services.regions import region_tree
from survey.services.regions import rename_region
from survey.web.admin import bp
from survey.web.admin.forms import ImportForm
from survey.web.admin.forms import RegionForm
from survey.web.admin.forms import RenameForm
from survey.web.admin.helpers import staff

PARENT_LEVELS = ("city", "district", "street")


def _tree_page(
    form: RegionForm | None = None, status: int = 200, error: str | None = None
) -> ResponseReturnValue:
    user = staff()
    tree = region_tree(user)
    form = form or RegionForm()
    form.parent_id.choices = region_choices(user, PARENT_LEVELS)
    page = render_template(
        "admin/regions.html",
        rows=tree.rows,
        form=form,
        rename_form=RenameForm(),
        point_counts=tree.point_counts,
        error=error,
    )
    return page, status


@bp.get("/regions")
def regions() -> ResponseReturnValue:
    """The region tree in the user's scope."""
    return _tree_page()


@bp.post("/regions")
def region_create() -> ResponseReturnValue:
    """Add a region under a parent the user may see."""
    user = staff()
    form = RegionForm()
    form.parent_id.choices = region_choices(user, PARENT_LEVELS)
    if not form.validate_on_submit():
        return _tree_page(form, 400)
    parent = access.region_in_scope(user, form.parent_id.data)
    code = (form.code.data or "").strip()
    try:
        region = add_child_region(user, parent, code, (form.name.data or "").strip())
    except SurveyError as exc:
        transaction.rollback()
        return _tree_page(form, exc.status, str(exc))
    transaction.commit()
    flash(f"已添加{region.level_name}：{region.name}", "ok")
    return redirect(url_for("admin.regions") + f"#r{region.id}")


@bp.post("/regions/<int:region_id>/rename")
def region_rename(region_id: int) -> ResponseReturnValue:
    """Rename a region the user may see."""
    user = staff()
    region = access.region_in_scope(user, region_id)
    form = RenameForm()
    if not form.validate_on_submit():
        return _tree_page(status=400, error="请输入新名称（不超过 100 个字）。")
    try:
        old = rename_region(user, region, (form.name.data or "").strip())
    except SurveyError as exc:
        transaction.rollback()
        return _tree_page(status=exc.status, error=str(exc))
    transaction.commit()
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
    except SurveyError as exc:
        transaction.rollback()
        page = render_template("admin/region_import.html", form=form, file_error=str(exc))
        return page, exc.status
    if not report.ok:
        transaction.rollback()
        return render_template("admin/region_import.html", form=form, report=report), 400
    transaction.commit()
    flash(f"导入完成：新增 {report.created} 个区域，{report.unchanged} 个已存在未变。", "ok")
    return redirect(url_for("admin.regions"))
