"""The bulletin as a DOCX a bureau edits and stamps, in the style of official documents (GB/T 9704):
A4 with the standard margins, the issuer's mark and the document number centred above a red rule, the title
centred in 小标宋, headings 一、 in 黑体 and （一） in 楷体, body in 仿宋 三号 with a two-character indent and fixed
line spacing, the issuer and date at the foot, a contact line, then the attachment: one table per indicator with
the units as rows. Fonts are named (East Asian names set on every run); Word, WPS and LibreOffice substitute an
installed font where the named one is missing.
"""

from __future__ import annotations

import io
from pathlib import Path

from gongwei.bulletins import numbers
from gongwei.bulletins.narrative import Facts
from gongwei.bulletins.template import Template

FANGSONG, HEITI, KAITI, XIAOBIAOSONG = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体"
BODY_PT, TITLE_PT, TABLE_PT = 16, 22, 10.5  # 三号, 二号, 五号
RED = (0xC0, 0x00, 0x00)
COLUMN_CM = (3.6, 1.9, 1.9, 2.0, 2.0, 2.6, 1.5)  # 15.5 cm: the text width of A4 with 28 + 26 mm margins


def _font(run, name: str, size: float, *, bold: bool = False, colour: tuple[int, int, int] | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    r_pr = run._element.get_or_add_rPr()
    fonts = r_pr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)
    if colour:
        run.font.color.rgb = RGBColor(*colour)


def _para(doc, text: str = "", *, font: str = FANGSONG, size: float = BODY_PT, bold: bool = False, align=None,
          indent: bool = True, colour=None, space_after: float = 0, exact: bool = True):
    from docx.shared import Pt

    p = doc.add_paragraph()
    fmt = p.paragraph_format
    if exact:  # fixed 28 pt lines as official documents have; a picture needs its own height (exact=False)
        fmt.line_spacing = Pt(28)
    fmt.space_after = Pt(space_after)
    fmt.space_before = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if align is not None:
        p.alignment = align
    if text:
        _font(p.add_run(text), font, size, bold=bold, colour=colour)
    return p


def _red_rule(paragraph) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p_pr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "12"), ("w:space", "1"), ("w:color", "C00000")):
        bottom.set(qn(k), v)
    border.append(bottom)
    # schema order: pBdr comes before spacing, indentation and alignment, or Word and LibreOffice ignore it
    p_pr.insert_element_before(border, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                               "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
                               "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                               "w:mirrorIndents", "w:suppressOverlap", "w:jc")


def build(bulletin, t: Template, facts: Facts):
    """The python-docx Document of a bulletin (its paragraphs as edited, its frozen facts)."""
    import docx
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Cm, Mm

    from gongwei.bulletins.charts import ranking_png

    doc = docx.Document()
    props = doc.core_properties
    props.title, props.author, props.subject = bulletin.title, bulletin.issuer, t.name
    props.keywords = f"快照 {bulletin.snapshot_id}；规则库 {bulletin.rulebook}；期间 {bulletin.period}"
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    centre, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    _para(doc, f"{bulletin.issuer}文件", font=XIAOBIAOSONG, size=TITLE_PT + 4, align=centre, indent=False,
          colour=RED, space_after=12)
    _red_rule(_para(doc, bulletin.document_number, align=centre, indent=False, space_after=18))
    _para(doc, bulletin.title, font=XIAOBIAOSONG, size=TITLE_PT, align=centre, indent=False, space_after=18)
    for p in bulletin.paragraphs:
        kind = p["kind"]
        if kind == "addressee":
            _para(doc, p["text"], indent=False)
        elif kind == "heading":
            _para(doc, p["number"] + p["text"], font=HEITI if p["level"] == 1 else KAITI)
        elif kind == "chart":
            code = p["indicator"]
            own = facts.own(code)
            if own is None:
                continue
            png = ranking_png(own.name, facts.place, facts.child_level, facts.children(code), own.target_value)
            pic = _para(doc, indent=False, align=centre, exact=False, space_after=6)
            pic.add_run().add_picture(io.BytesIO(png), width=Cm(14))
        else:
            _para(doc, p["number"] + p["text"])
    if t.attachments:
        names = [a.format(**facts.words()) for a in t.attachments]
        label = "附件：" + ("；".join(f"{i}. {n}" for i, n in enumerate(names, 1)) if len(names) > 1 else names[0])
        _para(doc, "")
        _para(doc, label)
    _para(doc, "")
    _para(doc, bulletin.issuer, align=right, indent=False)
    _para(doc, numbers.date(bulletin.issued_on), align=right, indent=False)
    _para(doc, t.text["contact"])
    _para(doc, f"数据来源：快照 {bulletin.snapshot_id}（{bulletin.snapshot_taken_at[:16].replace('T', ' ')}），规则库版本 {bulletin.rulebook}，"
               f"数据截至{numbers.date(bulletin.data_cutoff)}。", size=12)
    if facts.evaluation:  # the annual evaluation bulletin: its two attachments are the round's tables
        _evaluation_attachments(doc, t, facts)
        return doc
    # the attachment on a new page: one table per indicator, units as rows
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _para(doc, "附件", font=HEITI, indent=False)
    if t.attachments:
        _para(doc, t.attachments[0].format(**facts.words()), font=XIAOBIAOSONG, size=18, align=centre, indent=False,
              space_after=12)
    for code in t.indicators:
        rows = [f for f in facts.figures if f.indicator == code]
        if not rows:
            continue
        _para(doc, f"{code} {rows[0].name}", font=HEITI, size=12, indent=False)
        table = doc.add_table(rows=1, cols=7)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for cell, text in zip(table.rows[0].cells, ("单位", "分子", "分母", "率", "目标值", "较上期（百分点）", "排名"),
                              strict=True):
            _cell(cell, text, bold=True)
        for f in sorted(rows, key=lambda f: (not f.own, f.rank or 10**6, f.unit_code)):
            values = (f"{f.place}（合计）" if f.own else f.place, str(f.numerator),
                      "—" if f.denominator is None else str(f.denominator), numbers.percent(f.rate),
                      f.target or "无", "—" if f.change is None else f"{numbers.points(f.change):+}",
                      "" if f.own or f.rank is None else f"{f.rank}/{f.siblings}")
            for cell, text in zip(table.add_row().cells, values, strict=True):
                _cell(cell, text)
        for column, width in zip(table.columns, COLUMN_CM, strict=True):
            column.width = Cm(width)  # the grid LibreOffice and WPS lay out by
        for row in table.rows:
            for cell, width in zip(row.cells, COLUMN_CM, strict=True):
                cell.width = Cm(width)  # the cell widths Word lays out by
        _para(doc, "", size=8)
    return doc


def _table(doc, header: tuple[str, ...], rows: list[tuple[str, ...]], widths: tuple[float, ...]):
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm

    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _cell(cell, text, bold=True)
    for values in rows:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            _cell(cell, text)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)
    return table


def _evaluation_attachments(doc, t: Template, facts: Facts) -> None:
    """附件1 绩效评价情况表 (units by rank with their score) and 附件2 各单位问题列表 (each lost point and why)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK

    ev = facts.evaluation or {}
    names = [a.format(**facts.words()) for a in t.attachments] + ["", ""]
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _para(doc, "附件1", font=HEITI, indent=False)
    _para(doc, names[0], font=XIAOBIAOSONG, size=18, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, space_after=6)
    _para(doc, f"{ev.get('title', '')}（{ev.get('scheme', '')}）", size=12, align=WD_ALIGN_PARAGRAPH.CENTER,
          indent=False, space_after=6)
    units = sorted(ev.get("units", []), key=lambda u: (u["rank"], u["code"]))
    _table(doc, ("排名", "单位", "得分", "备注"),
           [(str(u["rank"]), u["name"], numbers.score(u["score"]), "一票否决" if u["vetoed"] else "") for u in units],
           (2.0, 7.0, 3.0, 3.5))
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _para(doc, "附件2", font=HEITI, indent=False)
    _para(doc, names[1], font=XIAOBIAOSONG, size=18, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, space_after=12)
    _table(doc, ("单位", "项目", "失分", "失分原因"),
           [(p["unit"], p["item"], numbers.score(p["lost"]), p["reason"]) for p in ev.get("problems", [])],
           (3.5, 4.5, 1.5, 6.0))


def _cell(cell, text: str, *, bold: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    p = cell.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(text), FANGSONG, TABLE_PT, bold=bold)


def write(bulletin, t: Template, facts: Facts, out: Path) -> Path:
    from gongwei.files import make_private

    doc = build(bulletin, t, facts)
    doc.save(str(out))
    return make_private(Path(out))
