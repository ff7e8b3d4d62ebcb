"""Masking personal data for the public copy of a letter (DESIGN §6), case by case."""

from __future__ import annotations

import pytest

from mailbox.publication.masking import Kind, Masked, Replacement, is_id_number, mask, mask_name

NAMES = [
    pytest.param("张三", "张*", id="two-characters"),
    pytest.param("张三丰", "张**", id="three-characters"),
    pytest.param("王小二三", "王***", id="four-characters-single-surname"),
    pytest.param("欧阳修", "欧阳*", id="compound-three"),
    pytest.param("欧阳娜娜", "欧阳**", id="compound-four"),
    pytest.param("司马相如", "司马**", id="compound-sima"),
    pytest.param("诸葛亮", "诸葛*", id="compound-zhuge"),
    pytest.param("上官婉儿", "上官**", id="compound-shangguan"),
    pytest.param("买买提·艾力", "买**·**", id="dotted"),
    pytest.param("John Smith", "J*** S****", id="latin"),
]


@pytest.mark.parametrize(("name", "expected"), NAMES)
def test_mask_name(name: str, expected: str) -> None:
    assert mask_name(name) == expected


# (text, names given, public copy)
CASES = [
    # Names passed in, wherever they occur.
    pytest.param("张三反映：张三的邻居", ["张三"], "张*反映：张*的邻居", id="name-passed"),
    pytest.param("来信人欧阳娜娜。", ["欧阳娜娜"], "来信人欧阳**。", id="name-compound-passed"),
    pytest.param("此致 王小二三", ["王小二三"], "此致 王***", id="name-four-passed"),
    pytest.param("张三先生、李四女士", ["张三", "李四"], "张*先生、李*女士", id="name-title"),
    pytest.param(
        "张先生您好，张三先生反映", ["张三"], "张先生您好，张*先生反映", id="surname-kept"
    ),
    pytest.param("王女士来信", ["王女士"], "王女士来信", id="name-given-as-surname-title"),
    pytest.param("张　三：您好", ["张三"], "张　*：您好", id="name-spaced"),
    pytest.param("Dear John  Smith,", ["john smith"], "Dear J***  S****,", id="name-latin"),
    pytest.param("Johnson", ["John"], "Johnson", id="name-latin-whole-words"),
    # Names after a self-introduction.
    pytest.param("我叫张三，", [], "我叫张*，", id="cue-wojiao"),
    pytest.param("我是李四丰。", [], "我是李**。", id="cue-woshi"),
    pytest.param("本人王五，男", [], "本人王*，男", id="cue-benren"),
    pytest.param("联系人：赵六 电话", [], "联系人：赵* 电话", id="cue-contact"),
    pytest.param("姓名：钱七", [], "姓名：钱*", id="cue-name-end"),
    pytest.param("本人姓名:孙八", [], "本人姓名:孙*", id="cue-benren-name"),
    pytest.param("我叫张三电话是", [], "我叫张*电话是", id="cue-then-phone-word"),
    pytest.param("本人王五家住", [], "本人王*家住", id="cue-then-address-word"),
    pytest.param("我叫欧阳娜娜！", [], "我叫欧阳**！", id="cue-compound"),
    pytest.param("我叫买买提·艾力，", [], "我叫买**·**，", id="cue-dotted"),
    pytest.param("姓名：张 三\n", [], "姓名：张 *\n", id="cue-spaced"),
    pytest.param("联系人：张三先生", [], "联系人：张*先生", id="cue-name-title"),
    pytest.param("我是王老师，", [], "我是王老师，", id="cue-surname-title"),
    pytest.param("联系人：王先生", [], "联系人：王先生", id="cue-contact-surname-title"),
    pytest.param("我是党员，我是公务员。", [], "我是党员，我是公务员。", id="cue-not-a-name"),
    pytest.param("我叫了救护车，", [], "我叫了救护车，", id="cue-verb"),
    pytest.param(
        "本人申请低保，我是阿姨。", [], "本人申请低保，我是阿姨。", id="cue-verb-after-surname"
    ),
    pytest.param("本人于今年3月", [], "本人于今年3月", id="cue-preposition"),
    pytest.param("我是张三的邻居", [], "我是张三的邻居", id="cue-not-followed-by-a-stop"),
    pytest.param("我叫张三丰田园", [], "我叫张三丰田园", id="cue-more-than-four"),
    # A name that is also a word: masked only when given, or after a cue.
    pytest.param("这个办法很高明。", [], "这个办法很高明。", id="word-name-alone"),
    pytest.param("这个办法很高明。", ["高明"], "这个办法很高*。", id="word-name-passed"),
    pytest.param("我叫高明，办法高明。", [], "我叫高*，办法高明。", id="word-name-cue"),
    # Mobile numbers.
    pytest.param("电话13812345678。", [], "电话138****5678。", id="mobile"),
    pytest.param("138-1234-5678", [], "138****5678", id="mobile-dashes"),
    pytest.param("手机 138 1234 5678 ", [], "手机 138****5678 ", id="mobile-spaces"),
    pytest.param("+86 13812345678", [], "138****5678", id="mobile-plus86"),
    pytest.param("0086-19912345678", [], "199****5678", id="mobile-0086"),
    pytest.param("１３８１２３４５６７８", [], "138****5678", id="mobile-full-width"),
    # Landlines: area code and the last two digits kept.
    pytest.param("0991-4559175", [], "0991-*****75", id="landline"),
    pytest.param("(0991)4559175", [], "(0991)*****75", id="landline-parens"),
    pytest.param(
        "（０９９１）４５５９１７５", [], "（０９９１）*****７５", id="landline-full-width"
    ),
    pytest.param("010-12345678-123", [], "010-******78-***", id="landline-extension"),
    pytest.param("021 62345678", [], "021 ******78", id="landline-space"),
    pytest.param("09914559175", [], "0991*****75", id="landline-joined"),
    pytest.param("电话：4559175。", [], "电话：*****75。", id="landline-local-after-cue"),
    pytest.param("座机62345678", [], "座机******78", id="landline-local-eight"),
    # ID numbers: the first two and the last three kept.
    pytest.param("身份证650102199001011239", [], "身份证65*************239", id="id-18"),
    pytest.param("11010519491231002X。", [], "11*************02X。", id="id-18-x"),
    pytest.param("11010519491231002x", [], "11*************02x", id="id-18-lower-x"),
    pytest.param("650102199001011234", [], "65*************234", id="id-18-bad-check"),
    pytest.param("650102199013011236", [], "65*************236", id="id-18-bad-date-good-check"),
    pytest.param("650102900101123", [], "65**********123", id="id-15"),
    # Emails.
    pytest.param("邮箱zhangsan@example.com。", [], "邮箱z***@example.com。", id="email"),
    pytest.param("a.b+c@mail.xj.gov.cn", [], "a***@mail.xj.gov.cn", id="email-subdomains"),
    pytest.param("13812345678@163.com", [], "1***@163.com", id="email-phone-local"),
    pytest.param("ＺＨＡＮＧ＠ＱＱ．ＣＯＭ", [], "Ｚ***＠ＱＱ．ＣＯＭ", id="email-full-width"),
    pytest.param("邮箱zhangsan@qq。", [], "邮箱z***@qq。", id="email-without-top-level-domain"),
    # Addresses: kept down to the 街道/乡/镇, else the 区/县/市.
    pytest.param(
        "家住新疆乌鲁木齐市天山区解放北路街道幸福小区3号楼2单元501室。",
        [],
        "家住新疆乌鲁木齐市天山区解放北路街道***。",
        id="address-xinjiang-street",
    ),
    pytest.param(
        "北京市朝阳区建国路88号SOHO现代城2号楼1501室",
        [],
        "北京市朝阳区***",
        id="address-beijing-district",
    ),
    pytest.param(
        "北京市东城区东华门街道南池子大街12号院3号",
        [],
        "北京市东城区东华门街道***",
        id="address-beijing-courtyard",
    ),
    pytest.param(
        "上海市黄浦区南京东路街道福州路123弄45号602室",
        [],
        "上海市黄浦区南京东路街道***",
        id="address-shanghai-lane",
    ),
    pytest.param(
        "广东省深圳市南山区粤海街道科技园社区10栋302",
        [],
        "广东省深圳市南山区粤海街道***",
        id="address-guangdong",
    ),
    pytest.param("浙江省杭州市西湖区文三路478号", [], "浙江省杭州市西湖区***", id="address-road"),
    pytest.param(
        "新疆伊犁哈萨克自治州伊宁县吉里于孜镇阿热吾斯塘村3组15号",
        [],
        "新疆伊犁哈萨克自治州伊宁县吉里于孜镇***",
        id="address-town-village-group",
    ),
    pytest.param(
        "河南省周口市太康县城关乡幸福村三组",
        [],
        "河南省周口市太康县城关乡***",
        id="address-township-chinese-numerals",
    ),
    pytest.param(
        "内蒙古锡林郭勒盟正蓝旗上都镇某某嘎查5号",
        [],
        "内蒙古锡林郭勒盟正蓝旗上都镇***",
        id="address-banner",
    ),
    pytest.param("石河子市143团5连3号", [], "石河子市143团***", id="address-bingtuan-regiment"),
    pytest.param("我住在幸福小区3号楼2单元501室", [], "我住在***", id="address-lead-in"),
    pytest.param("地址：幸福小区3-2-501", [], "地址：***", id="address-label"),
    pytest.param("我家5号302室漏水", [], "我家***漏水", id="address-house-and-room"),
    pytest.param(
        "家住天山区0991-4559175幸福路5号",
        [],
        "家住天山区0991-*****75幸福路***",
        id="address-house-number-despite-overlap",
    ),
    pytest.param(
        "天山区的领导您好我家幸福小区3号楼有问题",
        [],
        "天山区的领导您好我家幸福小区***有问题",
        id="address-prose-before",
    ),
    # Must not change.
    pytest.param("请拨打12345热线", [], "请拨打12345热线", id="keep-hotline"),
    pytest.param("电话12345", [], "电话12345", id="keep-hotline-after-cue"),
    pytest.param("编号20261128123456", [], "编号20261128123456", id="keep-tracking-number"),
    pytest.param("2018年12月31日", [], "2018年12月31日", id="keep-date"),
    pytest.param("2018-12-31 10:00", [], "2018-12-31 10:00", id="keep-iso-date"),
    pytest.param("12月3号", [], "12月3号", id="keep-colloquial-date"),
    pytest.param("补贴1000元", [], "补贴1000元", id="keep-amount"),
    pytest.param("依据第25条", [], "依据第25条", id="keep-article"),
    pytest.param("新政办发〔2018〕58号", [], "新政办发〔2018〕58号", id="keep-document-number"),
    pytest.param("第3单元、3室2厅", [], "第3单元、3室2厅", id="keep-lesson-and-flat-layout"),
    pytest.param("盖了2栋楼，全村200户", [], "盖了2栋楼，全村200户", id="keep-counts"),
    pytest.param("乘坐5路公交车到3楼窗口", [], "乘坐5路公交车到3楼窗口", id="keep-bus-and-floor"),
    pytest.param("650102199013011235", [], "650102199013011235", id="keep-not-an-id"),
    pytest.param("天山区解放北路街道幸福村", [], "天山区解放北路街道幸福村", id="keep-no-number"),
]


@pytest.mark.parametrize(("text", "names", "expected"), CASES)
def test_mask(text: str, names: list[str], expected: str) -> None:
    assert mask(text, names=names).text == expected


@pytest.mark.parametrize(("text", "names", "expected"), CASES)
def test_masking_twice_changes_nothing(text: str, names: list[str], expected: str) -> None:
    once = mask(text, names=names)
    twice = mask(once.text, names=names)
    assert twice == Masked(once.text, ())


def _assert_spans(text: str, masked: Masked) -> None:
    """Every replacement sits where it says, and the text between them is the original's."""
    position = public = 0
    for r in masked.replaced:
        assert text[r.start : r.end] == r.original
        assert masked.text[r.public_start : r.public_end] == r.replacement
        assert text[position : r.start] == masked.text[public : r.public_start]
        position, public = r.end, r.public_end
    assert text[position:] == masked.text[public:]


def test_replaced_spans() -> None:
    text = (
        "我叫张三，电话：138-1234-5678，座机0991-4559175，"
        "身份证11010519491231002X，邮箱zs@example.com，"
        "家住天山区幸福路12号。"
    )
    masked = mask(text)
    assert masked.replaced == (
        Replacement(Kind.NAME, 2, 4, "张三", "张*", 2),
        Replacement(Kind.MOBILE, 8, 21, "138-1234-5678", "138****5678", 8),
        Replacement(Kind.LANDLINE, 24, 36, "0991-4559175", "0991-*****75", 22),
        Replacement(Kind.ID_NUMBER, 40, 58, "11010519491231002X", "11*************02X", 38),
        Replacement(Kind.EMAIL, 61, 75, "zs@example.com", "z***@example.com", 59),
        Replacement(Kind.ADDRESS, 81, 87, "幸福路12号", "***", 81),
    )
    _assert_spans(text, masked)
    assert masked.text == (
        "我叫张*，电话：138****5678，座机0991-*****75，身份证11*************02X，"
        "邮箱z***@example.com，家住天山区***。"
    )


def test_id_number_checks() -> None:
    assert is_id_number("650102199001011239")  # right date, right check
    assert is_id_number("650102199001011234")  # mistyped check
    assert is_id_number("650102199013011236")  # impossible date, right check
    assert not is_id_number("650102199013011235")
    assert not is_id_number("990102199001011239")  # no such province
    assert is_id_number("650102900101123") and not is_id_number("650102901301123")


def test_nothing_to_mask() -> None:
    assert mask("") == Masked("", ())
    text = "您好！关于供暖问题，已转天山区住建局办理，请拨打12345咨询。"
    assert mask(text, names=["", "  ", "张"]) == Masked(text, ())


LETTER = (
    "尊敬的领导：我叫{name}，家住新疆乌鲁木齐市天山区解放北路街道幸福小区{i}号楼2单元501室，"
    "手机139{i:08d}，邮箱user{i}@example.com，身份证650102199001011239。"
    "依据新政办发〔2018〕58号第25条，2018年12月31日前应发放补贴1000元，至今未发。"
    "曾拨打12345热线（编号20261128123456），答复请联系0991-4559175。\n"
)
PUBLIC = (
    "尊敬的领导：我叫张*，家住新疆乌鲁木齐市天山区解放北路街道***，"
    "手机139****{i:04d}，邮箱u***@example.com，身份证65*************239。"
    "依据新政办发〔2018〕58号第25条，2018年12月31日前应发放补贴1000元，至今未发。"
    "曾拨打12345热线（编号20261128123456），答复请联系0991-*****75。"
)


def test_a_letter_of_5000_characters() -> None:
    names = [f"张{chr(0x4E00 + 0x200 + i)}" for i in range(40)]
    text = "".join(LETTER.format(name=name, i=i) for i, name in enumerate(names))[:5000]
    masked = mask(text, names=names)
    _assert_spans(text, masked)
    *whole, cut = masked.text.split("\n")
    assert len(whole) > 20
    assert whole == [PUBLIC.format(i=i) for i in range(len(whole))]
    assert PUBLIC.format(i=len(whole)).startswith(cut)  # cut at 5,000 in "user25@ex…"
    assert mask(masked.text, names=names) == Masked(masked.text, ())
