"""The project's own sample government documents for demos and tests (no outside data).

Documents are built from templates with random agencies, departments and topics, and written
as PDF (reportlab, built-in CID font STSong-Light, which pypdf extracts back), DOCX, OFD (a
minimal package written here) and UTF-8 TXT. Output is deterministic for a given seed.
"""

from __future__ import annotations

import random
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

FORMATS = ("pdf", "docx", "ofd", "txt")


@dataclass(frozen=True)
class Agency:
    name: str
    prefix: str  # the agency code in document numbers, e.g. 冀政办
    addressees: str


AGENCIES = (
    Agency("河北省人民政府办公厅", "冀政办", "各市（含定州、辛集市）人民政府，省政府各部门："),
    Agency("北京市财政局", "京财", "各区财政局，市级各预算单位："),
    Agency("浙江省档案局", "浙档", "各市、县（市、区）档案局（馆），省级各单位："),
    Agency("江苏省应急管理厅", "苏应急", "各设区市应急管理局，省各有关单位："),
    Agency("广东省人力资源和社会保障厅", "粤人社", "各地级以上市人力资源社会保障局："),
    Agency("四川省发展和改革委员会", "川发改", "各市（州）发展改革委，省直有关部门："),
    Agency("山东省数据局", "鲁数", "各市大数据局，省直各部门、单位："),
    Agency("湖南省教育厅", "湘教", "各市州教育（体）局，各普通高等学校："),
)

DEPARTMENTS = ("办公室", "综合处", "财务处", "人事处", "档案室", "法规处", "信息中心", "规划处")


@dataclass(frozen=True)
class Topic:
    subject: str  # 安全生产
    action: str  # 进一步加强安全生产工作
    keywords: tuple[str, ...]
    points: tuple[str, ...]


TOPICS = (
    Topic(
        "安全生产",
        "进一步加强{year}年度安全生产工作",
        ("安全生产", "隐患排查", "责任制"),
        (
            "压实安全生产责任，严格落实党政同责、一岗双责、齐抓共管、失职追责",
            "深入开展重点行业领域隐患排查整治，建立问题清单和整改台账",
            "加强应急值守和信息报送，确保突发事件第一时间妥善处置",
            "强化安全生产宣传教育培训，提升从业人员安全意识和技能",
        ),
    ),
    Topic(
        "财政预算",
        "做好{year}年部门预算编制",
        ("财政预算", "预算编制", "绩效管理"),
        (
            "坚持过紧日子思想，从严控制一般性支出和“三公”经费",
            "全面实施预算绩效管理，绩效目标与预算同步申报、同步审核",
            "规范政府采购预算编制，做到应编尽编",
            "加强预算执行监控，对执行进度缓慢的项目及时调整",
        ),
    ),
    Topic(
        "人事任免",
        "{name}等同志职务任免",
        ("人事任免", "干部管理"),
        (
            "经研究决定，任命{name}同志为{dept}主任，试用期一年",
            "免去{name2}同志{dept}副主任职务",
            "有关同志的任职时间从本文件印发之日起计算",
        ),
    ),
    Topic(
        "档案工作",
        "加强机关电子文件归档和电子档案管理",
        ("档案工作", "电子档案", "归档"),
        (
            "各单位要按照《电子文件归档与电子档案管理规范》做好电子文件的收集和整理",
            "归档电子文件应当采用OFD或PDF/A等长期保存格式",
            "严格执行归档范围和保管期限表，确保档案真实、完整、可用、安全",
            "定期开展电子档案“四性”检测，发现问题及时整改",
        ),
    ),
    Topic(
        "信息化建设",
        "推进{year}年政务信息化建设项目",
        ("信息化建设", "政务服务", "数据共享"),
        (
            "统筹推进政务云平台建设，避免重复投资和分散建设",
            "加快政务数据共享交换，推动跨部门业务协同",
            "落实网络安全等级保护制度，保障系统安全稳定运行",
            "项目建设单位应按规定开展项目验收和绩效评价",
        ),
    ),
    Topic(
        "节能降耗",
        "开展公共机构节能降耗专项行动",
        ("节能降耗", "公共机构", "绿色低碳"),
        (
            "严格控制办公区域空调温度，夏季不低于26摄氏度",
            "推广使用新能源公务用车，逐步淘汰高耗能设备",
            "建立能耗统计台账，按季度报送能源资源消耗数据",
        ),
    ),
)

DOC_TYPES = ("通知", "请示", "批复", "函", "会议纪要", "报告", "决定", "公告")

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "敏", "静", "磊", "洋", "勇", "艳", "杰", "涛", "明", "超", "华", "平", "刚")


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass
class SampleDoc:
    title: str
    number: str
    agency: str
    department: str
    doc_type: str
    when: date
    keywords: list[str]
    addressee: str
    paragraphs: list[str]  # body, without title/number/signature
    table: list[list[str]] | None


def _compose(rng: random.Random) -> SampleDoc:
    agency = rng.choice(AGENCIES)
    topic = rng.choice(TOPICS)
    doc_type = rng.choice(DOC_TYPES)
    dept = rng.choice(DEPARTMENTS)
    year = rng.randint(2018, 2025)
    when = date(year, 1, 1) + timedelta(days=rng.randint(0, 360))
    fill = {"year": year, "name": _person(rng), "name2": _person(rng), "dept": dept}
    action = topic.action.format(**fill)
    kind = {"函": "函", "批复": "复", "请示": "请"}.get(doc_type, "发")
    if doc_type == "会议纪要":
        kind = "纪"
    number = f"{agency.prefix}{kind}〔{year}〕{rng.randint(1, 150)}号"
    if doc_type == "会议纪要":
        title = f"{agency.name}{topic.subject}专题会议纪要"
    elif doc_type == "批复":
        title = f"{agency.name}关于同意{action}的批复"
    elif doc_type == "请示":
        title = f"{agency.name}{dept}关于{action}的请示"
    else:
        title = f"{agency.name}关于{action}的{doc_type}"
    addressee = agency.addressees
    intro = {
        "通知": f"为{action}，经研究，现就有关事项通知如下：",
        "请示": f"为{action}，根据工作需要，现将有关事项请示如下：",
        "批复": f"你单位《关于{action}的请示》收悉。经研究，现批复如下：",
        "函": f"为{action}，现就有关事项函告如下：",
        "会议纪要": f"{_cn_date(when)}，{agency.name}召开{topic.subject}专题会议，"
        f"研究{action}有关事项。现将会议议定事项纪要如下：",
        "报告": f"按照工作部署，我单位认真{action}，现将有关情况报告如下：",
        "决定": f"为{action}，经{agency.name}研究，决定如下：",
        "公告": f"为{action}，现将有关事项公告如下：",
    }[doc_type]
    numerals = "一二三四五六七八九十"
    points = [p.format(**fill) for p in topic.points]
    rng.shuffle(points)
    items = [f"{numerals[i]}、{p}。" for i, p in enumerate(points)]
    closing = {
        "通知": "特此通知。",
        "请示": "妥否，请批示。",
        "批复": "此复。",
        "函": "特此函告，请予支持。",
        "会议纪要": "会议要求各单位按照职责分工抓好落实。",
        "报告": "特此报告。",
        "决定": "本决定自印发之日起施行。",
        "公告": "特此公告。",
    }[doc_type]
    contact = (
        f"联系人：{_person(rng)}，联系电话：0{rng.randint(10, 99)}-{rng.randint(10**7, 10**8 - 1)}"
    )
    table = None
    if doc_type == "会议纪要":
        table = [["姓名", "单位", "职务"]] + [
            [_person(rng), rng.choice(AGENCIES).name, rng.choice(("处长", "副处长", "主任"))]
            for _ in range(3)
        ]
    if doc_type in ("公告", "会议纪要"):
        addressee = ""
    return SampleDoc(
        title=title,
        number=number,
        agency=agency.name,
        department=dept,
        doc_type=doc_type,
        when=when,
        keywords=[*list(topic.keywords), doc_type],
        addressee=addressee,
        paragraphs=[intro, *items, closing, contact],
        table=table,
    )


def _lines(doc: SampleDoc) -> list[str]:
    """The document as display lines (title, number, body, table, signature)."""
    out = [doc.number, doc.title, ""]
    if doc.addressee:
        out.append(doc.addressee)
    out.extend(doc.paragraphs)
    if doc.table:
        out.append("参会人员：")
        out.extend("　".join(row) for row in doc.table)
    out.extend(["", doc.agency, _cn_date(doc.when)])
    return out


# --- writers -----------------------------------------------------------------------------

_CHARS_PER_PAGE = 700  # rough A4 capacity at 三号/小四, for page estimates of flow formats


def _write_txt(doc: SampleDoc, path: Path) -> int:
    text = "\n".join(_lines(doc)) + "\n"
    path.write_text(text, encoding="utf-8")
    return max(1, -(-len(text) // _CHARS_PER_PAGE))


def _write_docx(doc: SampleDoc, path: Path) -> int:
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
    for line in (doc.agency, _cn_date(doc.when)):
        document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    props = document.core_properties
    props.title = doc.title
    props.author = doc.agency
    props.keywords = "；".join(doc.keywords)
    props.created = datetime(doc.when.year, doc.when.month, doc.when.day, 9, 0)
    props.modified = props.created
    props.last_modified_by = doc.agency
    document.save(str(path))
    return max(1, -(-sum(len(line) for line in _lines(doc)) // _CHARS_PER_PAGE))


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


def _write_pdf(doc: SampleDoc, path: Path) -> int:
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
    emit(_cn_date(doc.when), 12, "right")
    c.showPage()
    c.save()
    return pages


OFD_NS = "http://www.ofdspec.org/2016"


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _write_ofd(doc: SampleDoc, path: Path, rng: random.Random) -> int:
    """A minimal OFD (GB/T 33190) package: one document, A4 pages, text objects in mm."""
    page_w, page_h, margin = 210.0, 297.0, 25.0
    size = 4.2  # ≈ 12 pt in mm
    per_line = int((page_w - 2 * margin) / size)
    lines_per_page = int((page_h - 2 * margin) / (size * 1.6))
    rows: list[tuple[str, str]] = []  # (text, align)
    for i, line in enumerate(_lines(doc)):
        align = "center" if i < 2 else "left"
        if line in (doc.agency, _cn_date(doc.when)):
            align = "right"
        rows.extend((line[j : j + per_line], align) for j in range(0, max(len(line), 1), per_line))
    pages = [rows[i : i + lines_per_page] for i in range(0, len(rows), lines_per_page)]
    next_id = 10
    page_xml: list[str] = []
    for page_rows in pages:
        layer_id = next_id
        next_id += 1
        objs: list[str] = []
        for n, (text, align) in enumerate(page_rows):
            if not text:
                continue
            w = len(text) * size
            x = {"center": (page_w - w) / 2, "right": page_w - margin - w}.get(align, margin)
            y = margin + n * size * 1.6
            delta = f' DeltaX="g {len(text) - 1} {size}"' if len(text) > 1 else ""
            box = f"{x:.2f} {y:.2f} {w:.2f} {size * 1.4:.2f}"
            objs.append(
                f'<ofd:TextObject ID="{next_id}" Boundary="{box}" Font="1" Size="{size}">'
                '<ofd:FillColor Value="0 0 0"/>'
                f'<ofd:TextCode X="0" Y="{size:.2f}"{delta}>{_esc(text)}</ofd:TextCode>'
                "</ofd:TextObject>"
            )
            next_id += 1
        page_xml.append(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content>'
            f'<ofd:Layer ID="{layer_id}">{"".join(objs)}</ofd:Layer>'
            "</ofd:Content></ofd:Page>"
        )
    page_ids = list(range(next_id, next_id + len(pages)))
    max_id = page_ids[-1]
    page_refs = "".join(
        f'<ofd:Page ID="{pid}" BaseLoc="Pages/Page_{i}/Content.xml"/>'
        for i, pid in enumerate(page_ids)
    )
    document_xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ofd:Document xmlns:ofd="{OFD_NS}"><ofd:CommonData>'
        f"<ofd:MaxUnitID>{max_id}</ofd:MaxUnitID>"
        f"<ofd:PageArea><ofd:PhysicalBox>0 0 {page_w:g} {page_h:g}</ofd:PhysicalBox></ofd:PageArea>"
        "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
        f"</ofd:CommonData><ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>"
    )
    public_res = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ofd:Res xmlns:ofd="{OFD_NS}" BaseLoc="Res"><ofd:Fonts>'
        '<ofd:Font ID="1" FontName="宋体" FamilyName="宋体" Charset="unicode"/>'
        "</ofd:Fonts></ofd:Res>"
    )
    doc_id = uuid.UUID(int=rng.getrandbits(128)).hex
    keywords = "".join(f"<ofd:Keyword>{_esc(k)}</ofd:Keyword>" for k in doc.keywords)
    ofd_xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ofd:OFD xmlns:ofd="{OFD_NS}" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
        f"<ofd:DocID>{doc_id}</ofd:DocID><ofd:Title>{_esc(doc.title)}</ofd:Title>"
        f"<ofd:Author>{_esc(doc.agency)}</ofd:Author>"
        f"<ofd:Subject>{_esc(doc.doc_type)}</ofd:Subject>"
        f"<ofd:CreationDate>{doc.when.isoformat()}</ofd:CreationDate>"
        f"<ofd:Keywords>{keywords}</ofd:Keywords><ofd:Creator>Dangan</ofd:Creator>"
        "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    )
    # Fixed timestamps keep the package bytes reproducible for a seed.
    stamp = (doc.when.year, doc.when.month, doc.when.day, 9, 0, 0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:

        def put(name: str, text: str) -> None:
            zf.writestr(zipfile.ZipInfo(name, stamp), text.encode("utf-8"), zipfile.ZIP_DEFLATED)

        put("OFD.xml", ofd_xml)
        put("Doc_0/Document.xml", document_xml)
        put("Doc_0/PublicRes.xml", public_res)
        for i, xml in enumerate(page_xml):
            put(f"Doc_0/Pages/Page_{i}/Content.xml", xml)
    return len(pages)


def generate_samples(
    out_dir: str | Path, n: int, seed: int = 0, formats: tuple[str, ...] = FORMATS
) -> list[tuple[Path, dict[str, Any]]]:
    """Write `n` sample documents (formats in rotation) and return (path, metadata) pairs."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    result: list[tuple[Path, dict[str, Any]]] = []
    for i in range(n):
        doc = _compose(rng)
        ext = formats[i % len(formats)]
        path = out / f"sample_{i + 1:04d}_{doc.doc_type}.{ext}"
        if ext == "pdf":
            pages = _write_pdf(doc, path)
        elif ext == "docx":
            pages = _write_docx(doc, path)
        elif ext == "ofd":
            pages = _write_ofd(doc, path, rng)
        elif ext == "txt":
            pages = _write_txt(doc, path)
        else:
            raise ValueError(f"unknown sample format: {ext}")
        metadata: dict[str, Any] = {
            "title": doc.title,
            "document_number": doc.number,
            "author": doc.agency,
            "date": doc.when.isoformat(),
            "document_type": doc.doc_type,
            "security_classification": "公开",
            "department": doc.department,
            "keywords": doc.keywords,
            "pages": pages,
        }
        result.append((path, metadata))
    return result
