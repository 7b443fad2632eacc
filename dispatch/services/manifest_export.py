"""The manifest as .xlsx (masked, formula-safe, print titles) and as PDF printed by Chromium.

The PDF is the manifest page itself in print media: the same template, its stylesheet
embedded (there is no server to fetch it from inside ``set_content``), A4 as the
stylesheet's ``@page`` rules say, so the PDF and the browser's own print are one layout.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.page import PageMargins

from dispatch.identity import mask_id_number, mask_phone
from dispatch.services.manifest import Manifest
from dispatch.services.worker_export import safe_text

_PDF_SLOTS = threading.BoundedSemaphore(2)  # at most two Chromiums at once per process
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


class PdfUnavailable(Exception):
    """No Chromium on this server (or it failed to start)."""


def to_pdf(html: str, chromium_path: str, timeout_s: float = 20) -> bytes:
    """Print ``html`` (a complete page with its CSS inline) to an A4 PDF with Chromium.

    Playwright's sync API runs in a thread of its own, so that it never meets an event
    loop of the calling thread (a test's own browser, an async server).
    """
    if not Path(chromium_path).exists():
        raise PdfUnavailable(f"no Chromium at {chromium_path}")
    if not _PDF_SLOTS.acquire(timeout=timeout_s):
        raise PdfUnavailable("every Chromium slot stayed busy")
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(_print, html, chromium_path, timeout_s).result()
    finally:
        _PDF_SLOTS.release()


def _print(html: str, chromium_path: str, timeout_s: float) -> bytes:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.set_default_timeout(timeout_s * 1000)
                page.set_content(html, wait_until="load")
                page.emulate_media(media="print")
                return page.pdf(prefer_css_page_size=True, print_background=True)
            finally:
                browser.close()
    except PlaywrightError as error:
        raise PdfUnavailable(str(error).splitlines()[0]) from None


HEADERS = [
    "座位",
    "姓名",
    "性别",
    "年龄",
    "身份证号",
    "手机号",
    "下车点",
    "用工单位",
    "短信",
    "礼包",
    "上车",
    "签名",
]
WIDTHS = [6, 10, 5, 5, 21, 14, 14, 22, 8, 6, 6, 14]


def to_xlsx(manifest: Manifest, title: str, facts: list[tuple[str, str]]) -> bytes:
    """One sheet: the trip's facts, then the passengers by pickup stop; A4, titles repeated."""
    book = Workbook()
    sheet = book.active
    sheet.title = "乘车名单"
    bold = Font(bold=True)
    sheet.append([safe_text(title)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["；".join(f"{label}：{safe_text(value)}" for label, value in facts)])
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(HEADERS))
    sheet["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[2].height = 45
    sheet.append(HEADERS)
    for cell in sheet[3]:
        cell.font = bold
    thin = Side(style="thin")
    groups = [
        (f"上车点：{line.stop.site.name_zh}", line.passengers)
        for line in manifest.stops
        if line.passengers
    ]
    if manifest.off_route:
        groups.append(("上车点不在本车路线上，请与调度核实", manifest.off_route))
    for label, passengers in groups:
        sheet.append([safe_text(f"{label}（{len(passengers)}人）")])
        sheet.cell(sheet.max_row, 1).font = bold
        for p in passengers:
            w = p.worker
            sheet.append(
                [
                    p.seat.seat_no,
                    safe_text(w.name + ("（车长）" if p.captain else "")),
                    {"M": "男", "F": "女"}.get(w.sex, ""),
                    p.age,
                    mask_id_number(w.id_number),
                    mask_phone(w.phone),
                    safe_text(p.dropoff.site.name_zh if p.dropoff else ""),
                    safe_text(w.employer.name if w.employer else ""),
                    "电话通知" if p.sms_unreachable else "",
                    "☑" if p.seat.pack_given_at else "☐",
                    "☑" if p.seat.boarded_at else "☐",
                    "",
                ]
            )
            for cell in sheet[sheet.max_row]:
                cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    c = manifest.counts
    sheet.append([])
    sheet.append(
        [
            f"应到 {c.expected} 人",
            "",
            "",
            "",
            f"实到 {c.boarded} 人",
            f"未到 {c.no_show} 人",
            "",
            f"礼包已发 {c.packs} 份",
        ]
    )
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[sheet.cell(3, index).column_letter].width = width
    sheet.print_title_rows = "1:3"
    sheet.freeze_panes = "A4"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "portrait"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
