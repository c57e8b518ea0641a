"""All the files of a bulletin from its stored record: DOCX, the XLSX attachment beside it, and the PDF when
LibreOffice is installed. Only the record is read (paragraphs as edited, frozen facts, the template used)."""

from __future__ import annotations

from pathlib import Path

from gongwei.bulletins import document, pdf, workbook
from gongwei.bulletins.narrative import Facts
from gongwei.bulletins.template import parse


def write_all(bulletin, out: Path, *, with_pdf: bool | None = None) -> dict[str, Path]:
    """Write ``out`` (.docx), ``out`` with .xlsx and (``with_pdf``, default: when LibreOffice is present) .pdf."""
    from gongwei.files import private_dir

    out = Path(out)
    private_dir(out.parent)
    t, facts = parse(bulletin.template), Facts.from_json(bulletin.facts)
    written = {"docx": document.write(bulletin, t, facts, out.with_suffix(".docx")),
               "xlsx": workbook.write(bulletin, facts, out.with_suffix(".xlsx"))}
    if with_pdf if with_pdf is not None else pdf.available():
        written["pdf"] = pdf.convert(written["docx"])
    return written
