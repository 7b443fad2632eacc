"""Worker import at scale: a 20,000-row .xlsx previewed and committed on a fresh SQLite app.

Run: .venv/bin/python bench/import_bench.py [--rows 20000]
Targets (issue 3): preview ≤ 20 s, commit ≤ 20 s on 2 cores, peak memory ≤ 500 MB.
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch import create_app  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.identity import make_id_number  # noqa: E402

PREVIEW_TARGET_S = 20.0
COMMIT_TARGET_S = 20.0
MEMORY_TARGET_MB = 500.0
HEADERS = (
    "姓名",
    "身份证号",
    "手机号",
    "户籍县区",
    "乡镇村",
    "上车点",
    "目的地",
    "用工单位",
    "最早出发日期",
    "最晚出发日期",
    "同行组",
    "短信通知",
    "备注",
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


def peak_mb() -> float:
    """Peak resident memory of this process (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_app(instance: Path):
    """A fresh SQLite app with the reference data of `flask demo load --workers 0`."""
    from dispatch.services import demo

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SCHEDULER_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.db'}",
        },
        instance_path=str(instance),
    )
    with app.app_context():
        db.create_all()
        demo.load_demo(workers=0)
        db.session.commit()
    return app


def workbook(app, rows: int) -> bytes:
    """``rows`` valid workers over the 17 counties, in families of up to 4 and singles."""
    from dispatch.models import County, Employer

    with app.app_context():
        counties = [
            (c.region_code, c.name_zh) for c in db.session.query(County).order_by(County.id)
        ]
        employers = [
            (e.site.name_zh, e.name) for e in db.session.query(Employer).order_by(Employer.id)
        ]
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("人员登记")
    sheet.append(HEADERS)
    for n in range(rows):
        region, county = counties[n % len(counties)]
        family = n // 4 if n % 17 < 8 else None  # about half travel in groups of up to 4
        site, employer = employers[(family if family is not None else n) % len(employers)]
        if family is not None:
            region, county = counties[(family * 4) % len(counties)]
        born = date(1970, 1, 1) + timedelta(days=n // 999)
        start = date(2026, 3, 1) + timedelta(days=(family if family is not None else n) % 5)
        sheet.append(
            [
                SURNAMES[n % 20] + GIVEN[n // 20 % 20] + GIVEN[n // 400 % 20],
                make_id_number(region, born, n % 999 + 1),
                f"1390{n:07d}",
                county,
                f"{county}东关",
                None,
                site,
                employer,
                start.isoformat(),
                (start + timedelta(days=2)).isoformat(),
                f"F{family}" if family is not None else None,
                "是",
                None,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(rows: int) -> dict:
    from dispatch.services import worker_import
    from dispatch.services.worker_fields import Lookups

    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Path(tmp))
        data = workbook(app, rows)
        base_mb = peak_mb()
        with app.app_context():
            started = time.perf_counter()
            report = worker_import.preview("bench.xlsx", data, Lookups.load())
            preview_s = time.perf_counter() - started
            problems = [(r.row, r.errors) for r in report.errors][:3]
            started = time.perf_counter()
            confirmed = worker_import.report_from_json(worker_import.report_to_json(report))
            committed = worker_import.commit("bench.xlsx", data, Lookups.load(), None, confirmed)
            db.session.commit()
            commit_s = time.perf_counter() - started
            started = time.perf_counter()
            again = worker_import.preview("bench.xlsx", data, Lookups.load())
            reimport_s = time.perf_counter() - started
            db.engine.dispose()
    return {
        "rows": rows,
        "file_kb": len(data) // 1024,
        "new": report.count("new"),
        "errors": len(report.errors),
        "first_errors": problems,
        "written": committed.written,
        "existing_on_reimport": again.count("existing"),
        "preview_s": preview_s,
        "commit_s": commit_s,
        "reimport_preview_s": reimport_s,
        "peak_mb": peak_mb(),
        "peak_before_import_mb": base_mb,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    result = run(parser.parse_args().rows)
    met = (
        result["preview_s"] <= PREVIEW_TARGET_S
        and result["commit_s"] <= COMMIT_TARGET_S
        and result["peak_mb"] <= MEMORY_TARGET_MB
        and result["written"] == result["rows"]
    )
    for key, value in result.items():
        print(f"{key:>24}: {value:.2f}" if isinstance(value, float) else f"{key:>24}: {value}")
    print(f"{'targets met':>24}: {'yes' if met else 'NO'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
