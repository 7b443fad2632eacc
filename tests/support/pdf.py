"""What a printed PDF says: the text of each page (pypdfium2)."""

from __future__ import annotations

import pypdfium2


def pages_text(pdf: bytes) -> list[str]:
    """The text of each page of ``pdf``, in order."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()
