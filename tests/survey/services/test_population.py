"""Population import (all or nothing, every bad row numbered), table and template export."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from openpyxl import Workbook
from openpyxl import load_workbook

from survey.errors import Forbidden
from survey.extensions import db
from survey.models import AuditLog
from survey.models import PopulationCount
from survey.models import User
from survey.services.population import HEADERS
from survey.services.population import PopulationImportError
from survey.services.population import export_population
from survey.services.population import import_population
from survey.services.population import population_rows

HEADER = ",".join(HEADERS)


def counts(app: Flask) -> dict[tuple[str, str, str], int]:
    from survey.models import Region

    with app.app_context():
        rows = db.session.execute(
            db.select(
                Region.code, PopulationCount.age_group, PopulationCount.sex, PopulationCount.count
            ).join(Region, Region.id == PopulationCount.region_id)
        ).all()
    return {(c, a, s): n for c, a, s, n in rows}


def run_import(app: Flask, name: str, data: bytes, actor: User | None = None):  # type: ignore[no-untyped-def]
    with app.app_context():
        try:
            summary = import_population(name, data, actor)
            db.session.commit()
            return summary
        except PopulationImportError:
            db.session.rollback()
            raise


def test_import_replaces_the_districts_in_the_file(seeded: Flask) -> None:
    before = counts(seeded)
    text = "\n".join([HEADER, "999901,临江区,18-29,男,1000", "999901,临江区,18—29岁,female,1200"])
    summary = run_import(seeded, "pop.csv", text.encode("utf-8"))
    assert (summary.districts, summary.cells, summary.total) == (1, 2, 2200)
    after = counts(seeded)
    assert after[("999901", "18-29", "male")] == 1000
    assert after[("999901", "18-29", "female")] == 1200
    assert not [k for k in after if k[0] == "999901" and k[1] != "18-29"]
    # other districts untouched
    assert {k: v for k, v in after.items() if k[0] != "999901"} == {
        k: v for k, v in before.items() if k[0] != "999901"
    }
    with seeded.app_context():
        assert db.session.execute(
            db.select(AuditLog.action).where(AuditLog.action == "population_import")
        ).scalar_one()


def test_every_bad_row_is_numbered_and_nothing_changes(seeded: Flask) -> None:
    before = counts(seeded)
    text = "\n".join(
        [
            HEADER,
            "999901,临江区,18-29,男,1000",  # 2: fine
            "123456,某区,18-29,男,10",  # 3: unknown region
            "999901001,滨江街道,18-29,男,10",  # 4: a street, not a district
            "999901,临江区,17-,男,10",  # 5: unknown age group
            "999901,临江区,30-39,未知,10",  # 6: unknown sex
            "999901,临江区,40-49,男,12.5",  # 7: not an integer
            "999901,临江区,50-59,男,-3",  # 8: negative
            "999901,临江区,18-29,male,5",  # 9: duplicate of row 2
            "999901,临江区,60+,男,",  # 10: empty count
        ]
    )
    with pytest.raises(PopulationImportError) as info:
        run_import(seeded, "bad.csv", text.encode("utf-8"))
    errors = dict(info.value.errors)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "123456 不存在" in errors[3]
    assert "不是区/县" in errors[4]
    assert "年龄段“17-”无效" in errors[5]
    assert "性别“未知”无效" in errors[6]
    assert "不是整数" in errors[7]
    assert "不能为负数" in errors[8]
    assert "与第 2 行重复" in errors[9]
    assert "人口数为空" in errors[10]
    assert counts(seeded) == before


def test_gbk_csv_with_chinese_labels(seeded: Flask) -> None:
    text = "\r\n".join([HEADER, "999902,青山区,60岁及以上,女,4321"])
    run_import(seeded, "gbk.csv", text.encode("gbk"))
    assert counts(seeded)[("999902", "60+", "female")] == 4321


def test_utf8_with_bom_and_xlsx(seeded: Flask) -> None:
    text = "\n".join([HEADER, "999903,新城区,30-39,男,777"])
    run_import(seeded, "bom.csv", text.encode("utf-8-sig"))
    assert counts(seeded)[("999903", "30-39", "male")] == 777
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(HEADERS))
    sheet.append([999904, "云溪县", "50-59", "女", 888.0])  # Excel numbers
    out = io.BytesIO()
    book.save(out)
    run_import(seeded, "pop.xlsx", out.getvalue())
    assert counts(seeded)[("999904", "50-59", "female")] == 888


def test_missing_header_and_wrong_file(seeded: Flask) -> None:
    with pytest.raises(PopulationImportError) as info:
        run_import(seeded, "x.csv", "区县编码,年龄段\n999901,18-29\n".encode())
    assert info.value.errors[0][0] == 0 and "表头缺少列" in info.value.errors[0][1]
    with pytest.raises(PopulationImportError):
        run_import(seeded, "x.pdf", b"%PDF")


def test_only_city_admin(seeded: Flask) -> None:
    officer = User(username="o", password_hash="x", role="district_officer")
    with pytest.raises(Forbidden):
        run_import(seeded, "p.csv", f"{HEADER}\n999901,临江区,18-29,男,1\n".encode(), officer)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_is_a_template_that_imports_back(seeded: Flask, fmt: str) -> None:
    before = counts(seeded)
    with seeded.app_context():
        data = export_population(fmt)
        rows = population_rows()
    assert len(rows) == 4 * 5 * 2  # demo districts x age groups x sexes
    if fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf") and HEADER in data.decode("utf-8-sig")
    else:
        sheet = load_workbook(io.BytesIO(data)).active
        assert sheet is not None
        assert [c.value for c in next(sheet.iter_rows())] == list(HEADERS)
    run_import(seeded, f"template.{fmt}", data)
    assert counts(seeded) == before
