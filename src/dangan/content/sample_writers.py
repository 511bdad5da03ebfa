"""Sample documents as TXT, DOCX and PDF files; each writer returns the page count.

PDF uses reportlab's built-in CID font STSong-Light (no font file needed, and pypdf extracts
the text back) and `invariant=True`, so the bytes are reproducible. DOCX uses 仿宋 at 三号
as 公文 do. TXT and DOCX have no pages of their own: their count is an estimate at A4.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from dangan.content.sample_docs import SampleDoc, cn_date, lines

_CHARS_PER_PAGE = 700  # rough A4 capacity at 三号/小四, for page estimates of flow formats


def write_txt(doc: SampleDoc, path: Path) -> int:
    text = "\n".join(lines(doc)) + "\n"
    path.write_text(text, encoding="utf-8")
    return max(1, -(-len(text) // _CHARS_PER_PAGE))


def write_docx(doc: SampleDoc, path: Path) -> int:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name = "仿宋"
    normal.font.size = Pt(16)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋_GB2312")
    num = document.add_paragraph(doc.number)
    num.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(doc.title)
    run.bold = True
    run.font.size = Pt(22)
    if doc.addressee:
        document.add_paragraph(doc.addressee)
    for para in doc.paragraphs:
        document.add_paragraph(para).paragraph_format.first_line_indent = Pt(32)
    if doc.table:
        document.add_paragraph("参会人员：")
        table = document.add_table(rows=len(doc.table), cols=len(doc.table[0]))
        for r, row in enumerate(doc.table):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
    for line in (doc.agency, cn_date(doc.when)):
        document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    props = document.core_properties
    props.title = doc.title
    props.author = doc.agency
    props.keywords = "；".join(doc.keywords)
    props.created = datetime(doc.when.year, doc.when.month, doc.when.day, 9, 0)
    props.modified = props.created
    props.last_modified_by = doc.agency
    document.save(str(path))
    return max(1, -(-sum(len(line) for line in lines(doc)) // _CHARS_PER_PAGE))


def _wrap(text: str, width_pt: float, font: str, size: float) -> list[str]:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if not text:
        return [""]
    lines: list[str] = []
    current = ""
    for ch in text:
        if current and stringWidth(current + ch, font, size) > width_pt:
            lines.append(current)
            current = ch
        else:
            current += ch
    lines.append(current)
    return lines


_PDF_FONT = "STSong-Light"


def write_pdf(doc: SampleDoc, path: Path) -> int:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if _PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_PDF_FONT))
    width, height = A4
    margin = 72.0
    c = canvas.Canvas(str(path), pagesize=A4, invariant=True)  # invariant: reproducible bytes
    c.setTitle(doc.title)
    c.setAuthor(doc.agency)
    c.setSubject(doc.doc_type)
    c.setKeywords(doc.keywords)
    c.setCreator("Dangan sample generator")
    pages = 1
    y = height - margin

    def emit(text: str, size: float, align: str = "left", indent: float = 0.0) -> None:
        nonlocal y, pages
        for line in _wrap(text, width - 2 * margin - indent, _PDF_FONT, size):
            if y < margin + size:
                c.showPage()
                pages += 1
                y = height - margin
            c.setFont(_PDF_FONT, size)
            if align == "center":
                c.drawCentredString(width / 2, y, line)
            elif align == "right":
                c.drawRightString(width - margin, y, line)
            else:
                c.drawString(margin + indent, y, line)
            indent = 0.0
            y -= size * 1.6

    emit(doc.number, 12, "center")
    emit(doc.title, 18, "center")
    y -= 10
    if doc.addressee:
        emit(doc.addressee, 12)
    for para in doc.paragraphs:
        emit(para, 12, indent=24)
    if doc.table:
        emit("参会人员：", 12)
        for row in doc.table:
            emit("　".join(row), 12, indent=24)
    y -= 12
    emit(doc.agency, 12, "right")
    emit(cn_date(doc.when), 12, "right")
    c.showPage()
    c.save()
    return pages
