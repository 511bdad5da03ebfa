"""Sample documents as OFD (GB/T 33190): a minimal package written here, without a library.

One document of A4 pages whose text objects are placed in millimetres, one line per text
object, with the fonts and document metadata an OFD reader expects. Entry timestamps are
fixed, so the package bytes are reproducible for a seed.
"""

from __future__ import annotations

import random
import uuid
import zipfile
from pathlib import Path

from dangan.content.sample_docs import SampleDoc, cn_date, lines

OFD_NS = "http://www.ofdspec.org/2016"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
_PAGE_W, _PAGE_H, _MARGIN = 210.0, 297.0, 25.0  # A4, in mm
_SIZE = 4.2  # ≈ 12 pt in mm
_LINE_HEIGHT = _SIZE * 1.6
_FIRST_ID = 10  # IDs below are left to the fixed resources (the font is 1)
_PUBLIC_RES = (
    _XML_DECL + f'<ofd:Res xmlns:ofd="{OFD_NS}" BaseLoc="Res"><ofd:Fonts>'
    '<ofd:Font ID="1" FontName="宋体" FamilyName="宋体" Charset="unicode"/>'
    "</ofd:Fonts></ofd:Res>"
)

Row = tuple[str, str]  # (text, align)


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def write_ofd(doc: SampleDoc, path: Path, rng: random.Random) -> int:
    """A minimal OFD (GB/T 33190) package: one document, A4 pages, text objects in mm."""
    pages = _paginate(doc)
    page_xml: list[str] = []
    next_id = _FIRST_ID
    for rows in pages:
        xml, next_id = _page(rows, next_id)
        page_xml.append(xml)
    page_ids = list(range(next_id, next_id + len(pages)))
    parts = {
        "OFD.xml": _ofd_xml(doc, uuid.UUID(int=rng.getrandbits(128)).hex),
        "Doc_0/Document.xml": _document_xml(page_ids),
        "Doc_0/PublicRes.xml": _PUBLIC_RES,
    }
    parts.update({f"Doc_0/Pages/Page_{i}/Content.xml": xml for i, xml in enumerate(page_xml)})
    # Fixed timestamps keep the package bytes reproducible for a seed.
    stamp = (doc.when.year, doc.when.month, doc.when.day, 9, 0, 0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(zipfile.ZipInfo(name, stamp), text.encode("utf-8"), zipfile.ZIP_DEFLATED)
    return len(pages)


def _paginate(doc: SampleDoc) -> list[list[Row]]:
    """The document's lines cut to the page width, then into pages."""
    per_line = int((_PAGE_W - 2 * _MARGIN) / _SIZE)
    lines_per_page = int((_PAGE_H - 2 * _MARGIN) / _LINE_HEIGHT)
    rows: list[Row] = []
    for i, line in enumerate(lines(doc)):
        align = "center" if i < 2 else "left"  # the number and the title
        if line in (doc.agency, cn_date(doc.when)):
            align = "right"
        rows.extend((line[j : j + per_line], align) for j in range(0, max(len(line), 1), per_line))
    return [rows[i : i + lines_per_page] for i in range(0, len(rows), lines_per_page)]


def _page(rows: list[Row], next_id: int) -> tuple[str, int]:
    """One page's Content.xml, its layer and text objects numbered from `next_id`; returns
    the XML and the next free ID."""
    layer_id = next_id
    next_id += 1
    objs: list[str] = []
    for n, (text, align) in enumerate(rows):
        if not text:
            continue
        w = len(text) * _SIZE
        x = {"center": (_PAGE_W - w) / 2, "right": _PAGE_W - _MARGIN - w}.get(align, _MARGIN)
        y = _MARGIN + n * _SIZE * 1.6
        delta = f' DeltaX="g {len(text) - 1} {_SIZE}"' if len(text) > 1 else ""
        box = f"{x:.2f} {y:.2f} {w:.2f} {_SIZE * 1.4:.2f}"
        objs.append(
            f'<ofd:TextObject ID="{next_id}" Boundary="{box}" Font="1" Size="{_SIZE}">'
            '<ofd:FillColor Value="0 0 0"/>'
            f'<ofd:TextCode X="0" Y="{_SIZE:.2f}"{delta}>{_esc(text)}</ofd:TextCode>'
            "</ofd:TextObject>"
        )
        next_id += 1
    xml = (
        _XML_DECL + f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content>'
        f'<ofd:Layer ID="{layer_id}">{"".join(objs)}</ofd:Layer>'
        "</ofd:Content></ofd:Page>"
    )
    return xml, next_id


def _document_xml(page_ids: list[int]) -> str:
    page_refs = "".join(
        f'<ofd:Page ID="{pid}" BaseLoc="Pages/Page_{i}/Content.xml"/>'
        for i, pid in enumerate(page_ids)
    )
    return (
        _XML_DECL + f'<ofd:Document xmlns:ofd="{OFD_NS}"><ofd:CommonData>'
        f"<ofd:MaxUnitID>{page_ids[-1]}</ofd:MaxUnitID>"
        "<ofd:PageArea>"
        f"<ofd:PhysicalBox>0 0 {_PAGE_W:g} {_PAGE_H:g}</ofd:PhysicalBox>"
        "</ofd:PageArea>"
        "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
        f"</ofd:CommonData><ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>"
    )


def _ofd_xml(doc: SampleDoc, doc_id: str) -> str:
    keywords = "".join(f"<ofd:Keyword>{_esc(k)}</ofd:Keyword>" for k in doc.keywords)
    return (
        _XML_DECL + f'<ofd:OFD xmlns:ofd="{OFD_NS}" Version="1.0" DocType="OFD"><ofd:DocBody>'
        f"<ofd:DocInfo><ofd:DocID>{doc_id}</ofd:DocID><ofd:Title>{_esc(doc.title)}</ofd:Title>"
        f"<ofd:Author>{_esc(doc.agency)}</ofd:Author>"
        f"<ofd:Subject>{_esc(doc.doc_type)}</ofd:Subject>"
        f"<ofd:CreationDate>{doc.when.isoformat()}</ofd:CreationDate>"
        f"<ofd:Keywords>{keywords}</ofd:Keywords><ofd:Creator>Dangan</ofd:Creator>"
        "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    )
