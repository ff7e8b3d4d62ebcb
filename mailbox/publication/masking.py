"""Masking of personal data for a letter's public copy (DESIGN §6): 张**, 138****1234, 65…123."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Kind(StrEnum):
    NAME = "name"
    MOBILE = "mobile"
    LANDLINE = "landline"
    ID_NUMBER = "id_number"
    EMAIL = "email"
    ADDRESS = "address"


@dataclass(frozen=True)
class Replacement:
    """`original` at `start:end` of the given text became `replacement`, which starts at
    `public_start` of the masked text."""

    kind: Kind
    start: int
    end: int
    original: str
    replacement: str
    public_start: int

    @property
    def public_end(self) -> int:
        return self.public_start + len(self.replacement)


@dataclass(frozen=True)
class Masked:
    text: str
    replaced: tuple[Replacement, ...]


# Detection runs on a copy with full-width ASCII folded (１３８ → 138, ： → :). Every character
# maps to exactly one, so offsets in the copy are offsets in the original.
_FOLD = str.maketrans({cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20})
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_DOTS = "·•・‧"
ADDRESS_MASK = "***"

# When two findings overlap, the kind listed first here is kept.
_PRIORITY = (Kind.EMAIL, Kind.ID_NUMBER, Kind.MOBILE, Kind.LANDLINE, Kind.ADDRESS, Kind.NAME)

# ---- names -------------------------------------------------------------------------------------

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 端木 独孤 南宫"
    " 万俟 闻人 澹台 申屠 呼延 西门 百里 东郭 南门 羊舌 微生 公冶 梁丘 左丘 第五 太史 公羊 赫连"
    " 钟离 濮阳 淳于 仲孙 司空 司寇 亓官 鲜于 闾丘 子车 颛孙 壤驷 公良 漆雕 乐正 宰父 谷梁 拓跋"
    " 夹谷 段干 东门 公西 巫马 公门 公山 公坚 左人 呼衍 完颜 爱新觉罗".split()
)
# Common single surnames, less the rare ones that are everyday words (国, 来, 信…): a name
# found only after a cue ("我是…") must start with one of them.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
    "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝"
    "包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤"
    "阳穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬仇栾隋刁沙"
    "荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝官封谈匡鞠惠荆冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满"
    "闻位厉伊仝郜阚权强帅屠豆朴盖练廉禹井祖漆巴丰支卿狄计索宣晋容敬扈晁芮阙浦戈伏鹿薄邸雍辜羊阿乌"
    "母裘亓修邰赫杭况宿鲜逯隆茹诸慕亢嵇哈湛戎勾茅於呼揭尉冶斯束檀阴昝奉植衡尧"
)
TITLES = (
    "先生 女士 小姐 同志 老师 师傅 阿姨 叔叔 大爷 大妈 大娘 大姐 大哥 奶奶 爷爷 老板 主任"
    " 书记 局长 处长 科长 经理 院长 校长 医生 大夫 律师 警官 队长 村长 组长 厅长 部长 市长"
    " 县长 区长 镇长 乡长 所长 站长 总 工 某"
).split()
# Words that may follow a name found by a cue: "我叫张三电话…", "本人王五家住…", "张三先生".
_FOLLOW_WORDS = (
    TITLES
    + (
        "电话 手机 联系 邮箱 电邮 身份证 住址 地址 家住 现住 住在 居住 今年 现年"
        " 年龄 性别 是 系 来自 户籍 啊 呀 吧 呢"
    ).split()
)
_FOLLOW = re.compile("|".join(sorted(_FOLLOW_WORDS, key=len, reverse=True)))
# Characters that do not occur in given names, and words that follow "我是" but are no names.
_NOT_GIVEN = frozenset(
    "的了在是和与及对向从把被给为这那个们你我他她它不没也都就还又很今昨去年月日时住请访"
    "员户局厅处科室部委办院校所站区县市省镇乡村街路号楼"
)
_NOT_NAMES = re.compile(
    "党员|公务员|家长|学生|车主|房东|房主|业主|司机|本地|当地|外地|居民|村民|市民|农民|工人|职工|员工"
    "|干部|群众|患者|病人|老人|孩子|母亲|父亲|妈妈|爸爸|丈夫|妻子|儿子|女儿|邻居|高中|初中|小学|大学"
    "|退休|退伍|军人|商户|个体|教师|代表|委员|单位|文化|司法|公安|城管|物业|宁夏|江西|江苏|海南|云南"
)
_CUE = re.compile(
    r"(?:(?:本人姓名|姓名|联系人|写信人|来信人|反映人|投诉人|举报人|申请人|署名|落款) *:? *"
    r"|我的名字(?:叫|是)|我名叫|我叫|我是|本人(?:是|叫|系)?)"
    rf"(?=(?P<run>[{_HAN}] {{1,2}}[{_HAN}](?![{_HAN}])"
    rf"|[{_HAN}]{{1,16}}(?:[{_DOTS}][{_HAN}]{{1,8}})*))"
)


_HAN_CHAR = re.compile(f"[{_HAN}]")
_DOT_CLASS = f"[{_DOTS}.]"


def _is_han(char: str) -> bool:
    return _HAN_CHAR.fullmatch(char) is not None


def _surname_length(name: str) -> int:
    return 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧阳**, 买买提·艾力 → 买**·**, John Smith → J*** S****."""
    if not _HAN_CHAR.search(name):
        return re.sub(r"[^\W\d_]+", lambda m: m[0][0] + "*" * (len(m[0]) - 1), name)
    han = "".join(c for c in name if _is_han(c))
    keep = 1 if any(c in _DOTS for c in name) else _surname_length(han)
    out, seen = [], 0
    for char in name:
        if _is_han(char):
            out.append(char if seen < keep else "*")
            seen += 1
        else:
            out.append(char)
    return "".join(out)


def _known_name_pattern(name: str) -> re.Pattern[str] | None:
    if not _HAN_CHAR.search(name):
        words = name.translate(_FOLD).split()
        if len("".join(words)) < 2:
            return None
        joined = r"\s+".join(map(re.escape, words))
        return re.compile(rf"(?<![^\W\d_]){joined}(?![^\W\d_])", re.IGNORECASE)
    core = "".join(name.split())
    if core[_surname_length(core) :] in TITLES:  # "王女士": the surname alone identifies nobody
        return None
    for title in TITLES:
        if len(title) > 1 and core.endswith(title):
            core = core[: -len(title)]
    if len(core) < 2:
        return None
    # Two-character names are often written with a space to line up with longer ones: 张　三.
    parts = [_DOT_CLASS if c in _DOTS else re.escape(c) for c in core]
    return re.compile((" ?" if len(core) == 2 else "").join(parts))


def _ends_word(char: str) -> bool:
    return not char or not (char.isalpha() or char == "*" or char in _DOTS)


def _cue_name(run: str, after: str) -> str | None:
    """The name at the start of `run`, the Han characters after a cue such as "我叫"."""
    if " " in run:  # 张　三, lined up with three-character names
        return run if _cue_name(run.replace(" ", ""), after) else None
    if any(c in _DOTS for c in run):  # 买买提·艾力: distinctive enough without a surname
        if len(re.split(f"[{_DOTS}]", run, maxsplit=1)[0]) > 6:
            return None
        last_dot = max(run.rfind(dot) for dot in _DOTS)
        for i in range(last_dot + 2, len(run)):
            if _FOLLOW.match(run, i):
                return run[:i]
        return run if _ends_word(after) else None
    for size in range(2, min(4, len(run)) + 1):
        rest = run[size:]
        if rest and not _FOLLOW.match(rest):
            continue
        if not rest and not _ends_word(after):
            return None
        name = run[:size]
        surname = _surname_length(name)
        given = name[surname:]
        if (
            (surname == 1 and name[0] not in _SURNAMES)
            or name in TITLES
            or any(given.startswith(title) for title in TITLES)
            or any(c in _NOT_GIVEN for c in given)
            or _NOT_NAMES.search(name)
        ):
            return None
        return name
    return None


_Found = tuple[int, int, Kind, str]


def _names(folded: str, names: Iterable[str]) -> list[_Found]:
    found: list[_Found] = []
    patterns = (_known_name_pattern(name) for name in names if name.strip())
    for pattern in sorted(filter(None, patterns), key=lambda p: -len(p.pattern)):
        found += [(m.start(), m.end(), Kind.NAME, "") for m in pattern.finditer(folded)]
    for match in _CUE.finditer(folded):
        start, end = match.span("run")
        name = _cue_name(match["run"], folded[end : end + 1])
        if name:
            found.append((start, start + len(name), Kind.NAME, ""))
    return found


# ---- numbers and emails ------------------------------------------------------------------------

# Without insisting on a top-level domain: "zhangsan@qq" (people forget the ".com") is private too.
_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][\w.%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?![\w-])", re.ASCII
)
_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(
    r"(?<![\d+])(?:\((?P<paren>0\d{2,3})\) ?|(?P<area>0\d{2,3})[ -])(?P<local>[1-9]\d{6,7})"
    r"(?:(?:-|转|ext\.?) ?(?P<ext>\d{1,6}))?(?!\d)"
    r"|(?<![\d+])(?P<joined>0\d{9,11})(?!\d)"
    r"|(?:电话|座机|固话|宅电|[Tt]el|TEL)(?:号码)?(?:是|为)?[: ]*(?P<bare>[1-9]\d{6,7})(?![\d-])"
)
_ID = re.compile(r"(?<![\dA-Za-z])[1-8]\d{5}(?:\d{8}\d{3}[\dXx]|\d{6}\d{3})(?![\dA-Za-z])")
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65"
    " 71 81 82 83".split()
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def is_id_number(number: str) -> bool:
    """Plausible 居民身份证 number: a province, and a real birth date or (18 digits) a right
    check character; a mistyped check character still counts, people mistype."""
    if number[:2] not in _PROVINCES:
        return False
    if len(number) == 15:
        return _valid_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    year = int(number[6:10])
    if 1900 <= year <= 2099 and _valid_date(year, int(number[10:12]), int(number[12:14])):
        return True
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def _landline(match: re.Match[str], text: str, folded: str) -> _Found | None:
    """Everything but the area code and the last two digits of the number starred."""
    if match["joined"]:
        digits = match["joined"]
        area = 3 if digits[1] in "12" else 4
        if len(digits) - area not in (7, 8) or digits[area] == "0":
            return None
        start = match.start()
        hidden = [(start + area, match.end() - 2)]
    else:
        area_code = match["paren"] or match["area"]
        if area_code and len(area_code) != (3 if area_code[1] in "12" else 4):
            return None
        local = match.span("local") if area_code else match.span("bare")
        start = match.start() if area_code else local[0]
        hidden = [(local[0], local[1] - 2)]
        if match["ext"]:
            hidden.append(match.span("ext"))
    out = list(text[start : match.end()])
    for first, last in hidden:
        for i in range(first, last):
            if folded[i].isdigit():
                out[i - start] = "*"
    return start, match.end(), Kind.LANDLINE, "".join(out)


def _numbers(text: str, folded: str) -> list[_Found]:
    found: list[_Found] = []
    for m in _EMAIL.finditer(folded):
        at = folded.index("@", m.start())
        found.append((m.start(), m.end(), Kind.EMAIL, f"{text[m.start()]}***{text[at : m.end()]}"))
    for m in _ID.finditer(folded):
        if is_id_number(m[0]):
            stars = "*" * (len(m[0]) - 5)
            kept = f"{text[m.start() : m.start() + 2]}{stars}{text[m.end() - 3 : m.end()]}"
            found.append((m.start(), m.end(), Kind.ID_NUMBER, kept))
    for m in _MOBILE.finditer(folded):
        digits = re.sub(r"\D", "", m[0])[-11:]
        found.append((m.start(), m.end(), Kind.MOBILE, f"{digits[:3]}****{digits[-4:]}"))
    for m in _LANDLINE.finditer(folded):
        landline = _landline(m, text, folded)
        if landline is not None:
            found.append(landline)
    return found


# ---- addresses ---------------------------------------------------------------------------------

_NUM = r"(?:\d+(?:-\d+)*[A-Za-z]?|[A-Za-z]\d*)"
_CN_NUM = "[一二三四五六七八九十百零〇两]{1,4}"
_UNIT = "(?:号楼|号院|号|栋|幢|座|单元|楼|层|室|组|队|弄|巷|排|连|门)"
_STRONG = "(?:号楼|号院|栋(?![楼房])|幢(?![楼房])|单元|室(?![0-9一二三四五六七八九十两]*厅))"
_TAIL = r"(?:-?\d{1,5}(?![\d\-A-Za-z年月日时点分元角万千百岁个次天周期条款项届]))"
_MORE = rf"(?:[- ]?(?:{_NUM}|{_CN_NUM}){_UNIT})*{_TAIL}?"
_PLACE = (
    r"(?<=\d)团|家属院|家属区|小区|花园|公寓|家园|社区|新村|大厦|广场|宿舍|嘎查|胡同|大街|大道|路|街|巷|弄|村"
    "|屯|庄|苑"
)
# A house number after a road, compound or village name (解放北路123号, 幸福村3组), or a chain
# that has a building, entrance or room in it whatever precedes it (3号楼2单元501室).
_HOUSE = re.compile(
    rf"(?P<place>{_PLACE}) ?"
    rf"(?P<after>(?:{_NUM}|{_CN_NUM}){_UNIT}{_MORE}|\d+(?:-\d+){{1,3}}(?![\d-]))"
    rf"|(?<![\dA-Za-z\-第])(?P<chain>(?:{_NUM}{_UNIT}[- ]?){{0,4}}?{_NUM}{_STRONG}{_MORE})"
)
_TOWN = re.compile(r"街道|(?<![城乡])镇|(?<![家老城故同下异])乡(?!镇)|苏木|\d+团")
_COUNTY = re.compile(
    "自治县|县|旗|(?<![小社校景厂营片园街属])区|(?<![超门夜菜集股城都早花鸟])市(?!场)|州|盟|地区"
)
_LEAD_IN = re.compile(r"(?:家住|住在|居住在|居住于|现住|住址|地址|位于|家在) *:? *")
_LEAD_IN_BEFORE = re.compile(rf"(?:{_LEAD_IN.pattern})$")
# Prose stops the look back for the administrative part: "…天山区的领导您好我家幸福小区…".
_PROSE = frozenset("的了我你您他她们是在把被给这那吗呢吧啊也都就还很请谢")
_LOOK_BACK = 30


def _address_start(folded: str, number: int) -> int | None:
    """Where the masked part of an address ends its kept part: after the 街道/乡/镇, else after
    the 区/县/市, else after "家住"/"地址："; None when nothing says where the address begins."""
    start = number
    while start > 0 and number - start < _LOOK_BACK:
        char = folded[start - 1]
        if char in _PROSE or not (char.isalnum() or char in "- "):
            break
        start -= 1
    window = folded[start:number]
    for pattern in (_TOWN, _COUNTY, _LEAD_IN):
        ends = [m.end() for m in pattern.finditer(window)]
        if ends:
            return start + ends[-1]
    return start if _LEAD_IN_BEFORE.search(folded, max(0, start - 8), start) else None


def _addresses(folded: str) -> tuple[list[_Found], list[_Found]]:
    """The addresses' masked parts, and their house numbers alone: those are masked even when
    something else overlaps the whole."""
    spans: list[list[int]] = []
    numbers: list[_Found] = []
    for m in _HOUSE.finditer(folded):
        number = m.start("after") if m["place"] else m.start()
        numbers.append((number, m.end(), Kind.ADDRESS, ADDRESS_MASK))
        begin = _address_start(folded, number)
        start = number if begin is None else begin
        if spans and start <= spans[-1][1]:
            spans[-1] = [min(spans[-1][0], start), m.end()]
        else:
            spans.append([start, m.end()])
    return [(start, end, Kind.ADDRESS, ADDRESS_MASK) for start, end in spans], numbers


# ---- putting it together -----------------------------------------------------------------------


def mask(text: str, *, names: Iterable[str] = ()) -> Masked:
    """The text with personal data masked, and what was masked where. Masking a masked text
    changes nothing; everything not masked stays as it was."""
    folded = text.translate(_FOLD)
    addresses, house_numbers = _addresses(folded)
    rank = {kind: i for i, kind in enumerate(_PRIORITY)}
    found = sorted(
        _numbers(text, folded) + addresses + _names(folded, names),
        key=lambda f: (rank[f[2]], f[0], -f[1]),
    )
    starts: list[int] = []
    kept: list[_Found] = []
    for start, end, kind, replacement in found + house_numbers:
        i = bisect_left(starts, start)
        if (i and kept[i - 1][1] > start) or (i < len(kept) and kept[i][0] < end):
            continue
        if kind is Kind.NAME:
            replacement = mask_name(text[start:end])
        if replacement == text[start:end]:
            continue
        starts.insert(i, start)
        kept.insert(i, (start, end, kind, replacement))
    out: list[str] = []
    replaced: list[Replacement] = []
    position = length = 0
    for start, end, kind, replacement in kept:
        out.append(text[position:start])
        length += start - position
        replaced.append(Replacement(kind, start, end, text[start:end], replacement, length))
        out.append(replacement)
        length += len(replacement)
        position = end
    out.append(text[position:])
    return Masked("".join(out), tuple(replaced))
