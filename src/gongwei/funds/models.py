"""One table of money movements (资金流水). A row is one document: a higher level's funds document issued to a unit
(下达), the money arriving in the unit's account (到位), the unit passing money down to a lower unit (拨付, with the
recipient) or spending it (支出). Rates and alerts are sums over these rows up to a date, so any past date can be
asked again. A wrong row is voided with a reason (who, when) and entered again: nothing is edited or deleted."""

from __future__ import annotations

from django.db import models

from gongwei.records.models import OrgUnit
from gongwei.spec.funds import FLOW_KINDS, FUND_ITEMS, LEVELS


class FundFlow(models.Model):
    kind = models.CharField("类别", max_length=14, choices=list(FLOW_KINDS.items()))
    year = models.PositiveSmallIntegerField("资金年度")
    item = models.CharField("资金项目", max_length=20, choices=[(k, v.name) for k, v in FUND_ITEMS.items()])
    level = models.CharField("资金来源层级", max_length=10, choices=list(LEVELS.items()))
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                                 verbose_name="单位（下达对象、到位单位、拨付单位或支出单位）")
    recipient = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", null=True, blank=True,
                                  verbose_name="拨付对象")
    amount = models.DecimalField("金额（元）", max_digits=14, decimal_places=2)
    date = models.DateField("日期")
    doc_no = models.CharField("文号或凭证号", max_length=80)
    note = models.CharField("摘要", max_length=300, blank=True)
    entered_by = models.CharField("录入人", max_length=150)
    entered_at = models.DateTimeField("录入时间", auto_now_add=True)
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    voided_by = models.CharField("作废人", max_length=150, blank=True)
    void_reason = models.CharField("作废原因", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "资金流水"
        ordering = ["date", "pk"]
        indexes = [models.Index(fields=["year", "item", "kind", "date"]),
                   models.Index(fields=["org_unit", "year"])]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="fund_flow_amount_positive")]

    def __str__(self) -> str:
        return f"{FLOW_KINDS[self.kind]} {self.amount} {self.doc_no}"
