"""Who set the targets in the rulebook: the regions and titles of the target lists .

Programs key each ``Target`` to the region of its source (a division-code prefix); only national figures
(national specification, notices and standards) stay region-less. See :class:`gongwei.spec.rules.Target`.
"""

from __future__ import annotations

from gongwei.spec.rules import UNIDENTIFIED_REGION

__all__ = ["BAOTOU", "GUANGDONG", "S0", "S4", "UNIDENTIFIED_REGION", "V28"]

# Regions of the seed documents that set targets (division-code prefixes, GB/T 2260).
BAOTOU = "1502"  # 包头市, Inner Mongolia — [baotou-2025]
# 广东省 — [city-rectification-2023]'s "省目标值". The city is anonymised ("XX市"); inferred [I] to be 湛江市: its 10 county-level
# units are 4 districts, 2 counties and 3 cities plus an economic-development zone, and it has a 农垦局 — exactly
# Zhanjiang's make-up (赤坎/霞山/坡头/麻章, 遂溪/徐闻, 廉江/雷州/吴川, 经开区, 湛江农垦).
GUANGDONG = "44"

# A province's 2023 target list, with the 2022 values it quotes for comparison ("(2022年:61%)") [prov-targets-2023]. The
# domain notes keep only "一省" and the stored page could not be found again to name the province, so these
# targets are keyed to UNIDENTIFIED_REGION and apply to no unit until someone verifies the province.
V28 = "某省 2023 年基本公共卫生服务项目目标（省份未核实）[prov-targets-2023]"
# [baotou-2025]: Baotou's report on its 2024 work, with each indicator's 年度目标要求
S4 = ("包头市人民政府对《包头市人大常委会关于〈市人民政府关于全市基本公共卫生服务工作落实情况的报告〉的审议意见》"
      "研究处理情况的报告（2025）：2024 年度目标（[baotou-2025]）[baotou-2025]")
# [city-rectification-2023]: a Guangdong city's rectification report, November 2023
S0 = "XX市卫生健康局关于我市基本公共卫生服务项目整改情况的报告（2023，[city-rectification-2023]）：省目标值 [city-rectification-2023]"
