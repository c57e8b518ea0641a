"""Sampling for verification (核查抽样): the methods, the sample size from a stated precision, and the interval
of a proportion found in a sample — as data and closed formulas, with their sources.

Equal-interval sampling (等间距抽样, systematic sampling) is how evaluators pick records for verification and
surveys [shangdang-2023]; its algorithm (order the frame, interval k = N/n, random start in [0, k), take
start + i·k) is the textbook one [cochran-1977]. The sample size for estimating a proportion p within ± e at
confidence z, corrected for a finite frame of N, is Cochran's [cochran-1977]; the interval of a verified rate is
Wilson's score interval [wilson-1927], which stays inside [0, 1] and behaves for small samples and rates near
0 or 1 (a unit where every sampled record is genuine). Nothing here runs on data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gongwei.spec.rules import Source
from gongwei.spec.vocab import Vocab


class Method(Vocab):
    """How a sample is drawn from its ordered frame."""

    INTERVAL = "interval", "等间距抽样"
    STRATIFIED = "stratified", "分层随机抽样"


METHOD_SOURCES = {
    Method.INTERVAL: Source("等间距抽样：通过等间距抽样开展知晓率和满意度调查 [shangdang-2023]；系统抽样 k = N/n、"
                           "随机起点 [cochran-1977]", "V"),
    Method.STRATIFIED: Source("分层随机抽样，按层（下级机构）规模比例分配样本 [cochran-1977]；按机构分层核查 [who-dqr-2017]",
                              "V"),
}


@dataclass(frozen=True)
class Precision:
    """What a sample must estimate: a proportion ``p`` within ± ``margin`` at the confidence of ``z``."""

    p: float
    margin: float
    z: float


Z_95 = 1.959964  # the two-sided 95 % normal quantile
Z_SOURCE = Source("95 % 置信水平的正态分位数 1.96 [cochran-1977]", "V")
# p = 0.5 gives the largest p(1 − p), so the size that holds for any rate; ± 5 % at 95 % is the precision the
# evaluation schemes ask for ("a proportion ± 5 % at 95 %") and the default of the command and pages
DEFAULT_PRECISION = Precision(p=0.5, margin=0.05, z=Z_95)
DEFAULT_PRECISION_SOURCE = Source("p = 0.5（最保守）、允许误差 ±5%、95% 置信 [cochran-1977]", "U")
SIZE_SOURCE = Source("n0 = z²·p(1−p)/e²，n = n0 / (1 + (n0 − 1)/N)（有限总体校正）[cochran-1977]", "V")
WILSON_SOURCE = Source("Wilson 得分区间 [wilson-1927]", "V")


def sample_size(frame_size: int, precision: Precision = DEFAULT_PRECISION) -> int:
    """Cochran's sample size for a proportion with the finite population correction, rounded up, at most N.

    >>> sample_size(1000)
    278
    """
    if frame_size <= 0:
        return 0
    p, e, z = precision.p, precision.margin, precision.z
    if not 0 < p < 1 or not 0 < e < 1 or z <= 0:
        raise ValueError("p 和允许误差应在 0 与 1 之间，z 应为正数")
    n0 = z * z * p * (1 - p) / (e * e)
    n = n0 / (1 + (n0 - 1) / frame_size)
    return min(frame_size, math.ceil(n - 1e-9))


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson's score interval for ``successes`` out of ``n`` (None with no observations)."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact bounds at the ends (no rounding residue)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high
