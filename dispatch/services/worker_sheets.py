"""Reading a worker list as rows of cells: old .xls and .csv here, .xlsx in xlsx_reader.py (both
chosen by sheet_files.read_table), with bounded work.

A county office's sheet is read as Excel shows it: merged cells carry their value into every
cell they cover. Every limit (rows, cells, shared strings, unpacked size, time) ends in an
``ImportFileError`` whose message a coordinator can act on.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _

EPOCH_1900 = date(1899, 12, 30)  # Excel's day 0, allowing for its phantom 1900-02-29
EPOCH_1904 = date(1904, 1, 1)
MAX_ROWS = 50_000  # data rows in one file
MAX_COLUMNS = 64
MAX_CELLS = 1_000_000  # cells (with or without a value) read from one sheet, merges included
MAX_SHARED_STRINGS = 1_000_000
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_READ_SECONDS = 10.0
CHECK_EVERY = 1 << 14  # parser events between two looks at the clock


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message says why, in the user's language."""


@dataclass
class Table:
    """A sheet's rows (index = spreadsheet row - 1) and the day date number 0 stands for."""

    rows: list[tuple]
    epoch: date = EPOCH_1900


def too_many_rows() -> ImportFileError:
    return ImportFileError(
        _("The file has more than %(n)d rows: split it into smaller files.", n=MAX_ROWS)
    )


def too_big() -> ImportFileError:
    return ImportFileError(
        _(
            "The workbook holds far more cells or text than a list of workers needs "
            "(at most %(rows)d rows): copy only the list into a new workbook and upload that.",
            rows=MAX_ROWS,
        )
    )


# --- CSV ---------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[tuple]:
    try:
        rows = [tuple(row[:MAX_COLUMNS]) for row in csv.reader(io.StringIO(_decode(data)))]
    except csv.Error:  # a cell past the csv module's size limit, a broken quote
        raise ImportFileError(_("The CSV file could not be read: save it again as CSV.")) from None
    if len(rows) > MAX_ROWS + 1:
        raise too_many_rows()
    return rows


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportFileError(_("The CSV file is neither UTF-8 nor GB18030 text.")) from None


# --- merged cells ----------------------------------------------------------------------------


def apply_merges(rows: list[tuple], ranges: list[tuple[int, int, int, int]]) -> list[tuple]:
    """Copy each merged range's value (its top-left cell) into every cell it covers.

    ``ranges`` are (first row, first column, last row, last column), 0-based and inclusive.
    """
    budget = MAX_CELLS
    grid = {index: list(row) for index, row in enumerate(rows)}
    for top, left, bottom, right in ranges:
        value = _at(rows, top, left)
        if value in (None, ""):
            continue
        bottom, right = min(bottom, len(rows) - 1), min(right, MAX_COLUMNS - 1)
        budget -= max(0, bottom - top + 1) * max(0, right - left + 1)
        if budget < 0:
            raise too_big()
        for index in range(top, bottom + 1):
            cells = grid[index]
            cells.extend([None] * (right + 1 - len(cells)))
            cells[left : right + 1] = [value] * (right + 1 - left)
    return [tuple(grid[index]) for index in range(len(rows))]


def _at(rows: list[tuple], row: int, column: int) -> Any:
    return rows[row][column] if row < len(rows) and column < len(rows[row]) else None


def merged_range(ref: str) -> tuple[int, int, int, int] | None:
    """'A1:I1' as (0, 0, 0, 8); None for anything else."""
    first, _sep, last = ref.partition(":")
    try:
        (r0, c0), (r1, c1) = _cell_ref(first), _cell_ref(last or first)
    except ValueError:
        return None
    return (r0, c0, r1, c1) if r0 <= r1 and c0 <= c1 else None


def _cell_ref(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    digits = ref[len(letters) :]
    if not letters.isalpha() or not digits.isdigit() or len(digits) > 7 or len(letters) > 3:
        raise ValueError(ref)
    return int(digits) - 1, column_index(letters)


def column_index(ref: str) -> int:
    """'A1' → 0, 'AB7' → 27."""
    index = 0
    for char in ref:
        if not char.isalpha():
            break
        index = index * 26 + ord(char.upper()) - 64
    return index - 1


# --- .xls (Excel 97-2003) ------------------------------------------------------------------


def read_xls(data: bytes) -> Table:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
        sheet = book.sheet_by_index(0)
        if sheet.nrows > MAX_ROWS + 50 or sheet.nrows * min(sheet.ncols, MAX_COLUMNS) > MAX_CELLS:
            raise too_many_rows()
        rows = [_xls_row(sheet.row(i)[:MAX_COLUMNS], book.datemode) for i in range(sheet.nrows)]
        ranges = [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in sheet.merged_cells]
    except ImportFileError:
        raise
    except Exception:  # not an .xls, encrypted, damaged: all one to a user
        raise ImportFileError(
            _("The .xls workbook could not be read; open it in Excel and save it as .xlsx.")
        ) from None
    return Table(apply_merges(rows, ranges))


def _xls_row(cells: list, datemode: int) -> tuple:
    return tuple(_xls_value(cell, datemode) for cell in cells)


def _xls_value(cell, datemode: int) -> Any:
    import xlrd

    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return None
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(value, datemode).date()
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return str(value)  # judged as "not a date" on its field
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_NUMBER:
        return int(value) if float(value).is_integer() else value
    return value
