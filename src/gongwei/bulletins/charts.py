"""Ranking bars with the target line, rendered offline with matplotlib and an installed CJK font.

No font, no chart: a chart whose Chinese names print as boxes would be worse than none, so a missing CJK font
is an error naming the package to install (:class:`ChartError`); the demo installs nothing system-wide.
"""

from __future__ import annotations

import io
from functools import cache

from gongwei.bulletins import numbers
from gongwei.bulletins.narrative import FigureRow
from gongwei.errors import UserError

# Families tried in order (Debian: fonts-wqy-microhei, fonts-wqy-zenhei, fonts-noto-cjk)
CJK_FAMILIES = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC",
                "SimHei", "Microsoft YaHei")
FONT_PACKAGE = "fonts-wqy-microhei"


class ChartError(UserError):
    """Charts cannot be drawn here; the message says what to install."""


@cache
def cjk_font() -> str:
    try:
        from matplotlib import font_manager
    except ModuleNotFoundError:
        raise ChartError("未安装 matplotlib，无法绘制通报图表：请运行 make install（pip install -e .）") from None
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    raise ChartError(f"未找到中文字体，图表中的汉字会显示为方框：请安装 {FONT_PACKAGE}"
                     f"（apt-get install --no-install-recommends {FONT_PACKAGE}，make install 会安装）")


def ranking_png(name: str, place: str, child_level: str, rows: list[FigureRow], target: float | None, *, dpi: int = 150) -> bytes:
    """Horizontal bars of the child units' rates, highest on top, red where the target is missed, the
    target as a dashed line; the area's own rate as a dotted line."""
    family = cjk_font()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    ranked = sorted((r for r in rows if r.rate is not None), key=lambda r: (r.rate, r.unit_code))
    height = max(1.6, 0.38 * len(ranked) + 1.0)
    with matplotlib.rc_context({"font.family": family, "font.size": 9, "axes.unicode_minus": False,
                                "svg.hashsalt": "gongwei", "pdf.fonttype": 42}):
        fig, ax = plt.subplots(figsize=(6.0, height), dpi=dpi)
        try:
            colours = ["#c0392b" if r.met is False else "#2e86c1" if r.met else "#7f8c8d" for r in ranked]
            ax.barh([r.place for r in ranked], [r.rate * 100 for r in ranked], color=colours, height=0.6)
            for i, r in enumerate(ranked):
                ax.text(r.rate * 100, i, f" {numbers.percent(r.rate)}", va="center", fontsize=8)
            title = f"{place}各{child_level}{name}"
            if target is not None:
                ax.axvline(target * 100, color="#c0392b", linestyle="--", linewidth=1)
                title += f"\n（虚线为目标值{numbers.percent(target)}，红色为未达标）"
            top = max([r.rate * 100 for r in ranked] + [target * 100 if target else 0])
            ax.set_xlim(0, max(100.0, top) * 1.12)
            ax.set_xlabel("%")
            ax.set_title(title, fontsize=10)
            ax.spines[["top", "right"]].set_visible(False)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", metadata={"Software": None})
        finally:
            plt.close(fig)
    return buf.getvalue()

