"""What a sample government document says: agencies, topics, and a composed 公文.

Documents follow the shape of real 党政机关公文 (GB/T 9704): a 发文字号 such as
冀政办发〔2024〕12号, a title "<agency>关于<matter>的<type>", the addressees, a numbered body,
a closing phrase fitting the document type, and the issuing agency and date. Everything is
drawn from the templates below with a seeded `random.Random`, so a seed gives the same
documents on every machine; the order of the draws is part of that promise.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta


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


def cn_date(d: date) -> str:
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


# Opening sentence of the body per document type; fields as in `_compose`.
_INTROS = {
    "通知": "为{action}，经研究，现就有关事项通知如下：",
    "请示": "为{action}，根据工作需要，现将有关事项请示如下：",
    "批复": "你单位《关于{action}的请示》收悉。经研究，现批复如下：",
    "函": "为{action}，现就有关事项函告如下：",
    "会议纪要": "{date}，{agency}召开{subject}专题会议，研究{action}有关事项。"
    "现将会议议定事项纪要如下：",
    "报告": "按照工作部署，我单位认真{action}，现将有关情况报告如下：",
    "决定": "为{action}，经{agency}研究，决定如下：",
    "公告": "为{action}，现将有关事项公告如下：",
}
_CLOSINGS = {
    "通知": "特此通知。",
    "请示": "妥否，请批示。",
    "批复": "此复。",
    "函": "特此函告，请予支持。",
    "会议纪要": "会议要求各单位按照职责分工抓好落实。",
    "报告": "特此报告。",
    "决定": "本决定自印发之日起施行。",
    "公告": "特此公告。",
}
_NUMERALS = "一二三四五六七八九十"


def compose(rng: random.Random) -> SampleDoc:
    """One random document; draws from `rng` in a fixed order."""
    agency = rng.choice(AGENCIES)
    topic = rng.choice(TOPICS)
    doc_type = rng.choice(DOC_TYPES)
    dept = rng.choice(DEPARTMENTS)
    year = rng.randint(2018, 2025)
    when = date(year, 1, 1) + timedelta(days=rng.randint(0, 360))
    fill = {"year": year, "name": _person(rng), "name2": _person(rng), "dept": dept}
    action = topic.action.format(**fill)
    number = f"{agency.prefix}{_number_kind(doc_type)}〔{year}〕{rng.randint(1, 150)}号"
    intro = _INTROS[doc_type].format(
        action=action, date=cn_date(when), agency=agency.name, subject=topic.subject
    )
    points = [p.format(**fill) for p in topic.points]
    rng.shuffle(points)
    items = [f"{_NUMERALS[i]}、{p}。" for i, p in enumerate(points)]
    contact = (
        f"联系人：{_person(rng)}，联系电话：0{rng.randint(10, 99)}-{rng.randint(10**7, 10**8 - 1)}"
    )
    table = None
    if doc_type == "会议纪要":
        table = [["姓名", "单位", "职务"]] + [
            [_person(rng), rng.choice(AGENCIES).name, rng.choice(("处长", "副处长", "主任"))]
            for _ in range(3)
        ]
    return SampleDoc(
        title=_title(agency, topic, doc_type, dept, action),
        number=number,
        agency=agency.name,
        department=dept,
        doc_type=doc_type,
        when=when,
        keywords=[*list(topic.keywords), doc_type],
        addressee="" if doc_type in ("公告", "会议纪要") else agency.addressees,
        paragraphs=[intro, *items, _CLOSINGS[doc_type], contact],
        table=table,
    )


def _number_kind(doc_type: str) -> str:
    """The character after the agency code in the 发文字号 (冀政办发, 京财函 …)."""
    if doc_type == "会议纪要":
        return "纪"
    return {"函": "函", "批复": "复", "请示": "请"}.get(doc_type, "发")


def _title(agency: Agency, topic: Topic, doc_type: str, dept: str, action: str) -> str:
    if doc_type == "会议纪要":
        return f"{agency.name}{topic.subject}专题会议纪要"
    if doc_type == "批复":
        return f"{agency.name}关于同意{action}的批复"
    if doc_type == "请示":
        return f"{agency.name}{dept}关于{action}的请示"
    return f"{agency.name}关于{action}的{doc_type}"


def lines(doc: SampleDoc) -> list[str]:
    """The document as display lines (title, number, body, table, signature)."""
    out = [doc.number, doc.title, ""]
    if doc.addressee:
        out.append(doc.addressee)
    out.extend(doc.paragraphs)
    if doc.table:
        out.append("参会人员：")
        out.extend("　".join(row) for row in doc.table)
    out.extend(["", doc.agency, cn_date(doc.when)])
    return out
