"""Household coverage (村不漏户、户不漏人): the template of a household or population list from another
authority, how its people are matched to the register, and how a village's coverage is counted. Data only;
``gongwei.service.coverage`` applies it.

"确保村不漏户、户不漏人" [subdistrict-2017]: every household of a village and every person of a household is in the
register. The list to check against comes from the authority that keeps households: public security's household
registration (户籍) or civil affairs. Identity numbers are checked by their GB 11643 check digit [gb11643].
"""

from __future__ import annotations

from gongwei.spec.rules import Source
from gongwei.spec.vocab import Vocab


class ListAuthority(Vocab):
    """Who keeps the list the register is checked against."""

    PUBLIC_SECURITY = "public_security", "公安户籍人口"
    CIVIL_AFFAIRS = "civil_affairs", "民政人口信息"
    OTHER = "other", "其他部门名单"


# The template: the header of each column (Chinese, as the other authority's export names it) → field.
TEMPLATE_COLUMNS = {"身份证号": "id_number", "姓名": "name", "户号": "household_no", "村（社区）代码": "village_code"}
OPTIONAL_COLUMNS = {"出生日期": "birth_date"}  # used for the probable match when the identity number is unusable
TEMPLATE_SOURCE = Source("户籍人口名单：身份证号、姓名、户号、所属村（社区）[subdistrict-2017]", "U")


class Match(Vocab):
    """How a listed person was found in the register."""

    EXACT = "exact", "身份证号一致"
    PROBABLE = "probable", "姓名和出生日期一致（同村，疑似）"
    MISSING = "missing", "未建档（漏人）"


MATCH_SOURCE = Source("先按身份证号精确匹配（GB 11643 校验）[gb11643]；证号不可用或未匹配时，同村姓名 + 出生日期"
                      "一致计为疑似匹配 [U]", "U")
# coverage = listed people found in the register (exact or probable) ÷ listed people of the village
COVERAGE_SOURCE = Source("村不漏户、户不漏人：户籍名单中已建档人数 ÷ 户籍名单人数 [subdistrict-2017]", "S")
MAX_ROWS = 200_000  # a county's list; larger files are split by township
