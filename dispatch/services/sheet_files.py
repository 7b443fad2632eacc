"""Opening an uploaded sheet (a worker list, an operator's coach list) by its file type."""

from __future__ import annotations

from flask_babel import gettext as _

from dispatch.services.worker_sheets import ImportFileError, Table, read_csv, read_xls
from dispatch.services.xlsx_reader import read_xlsx


def read_table(filename: str, data: bytes) -> Table:
    """The first sheet of an .xlsx, .xls or .csv file."""
    name = filename.lower()
    if name.endswith(".csv"):
        return Table(read_csv(data))
    if name.endswith((".xlsx", ".xlsm")):
        return read_xlsx(data)
    if name.endswith(".xls"):
        return read_xls(data)
    raise ImportFileError(_("Upload an .xlsx, .xls or .csv file."))
