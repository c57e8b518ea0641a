"""The base-data panel a unit's pages include (issue 13 §5): the unit's figures with their change since the last
period, read through :mod:`gongwei.service.base_data` with the request's actor (the page already checked the
unit against the actor's scope; the service checks again)."""

from __future__ import annotations

from django import template

from gongwei.service import base_data
from gongwei.web.faces import actor

register = template.Library()

PANEL = ("vacancy_rate", "vacancies", "special_outpatient", "capability_grade", "training_coverage", "fd_teams",
         "fd_doctors", "policy_status")


@register.inclusion_tag("web/supervision/base_data_panel.html", takes_context=True)
def base_data_panel(context, code: str):
    request = context["request"]
    report = base_data.base_data_by_unit(actor(request), code)
    cells = report.unit.cells
    return {"report": report, "code": code, "cells": [cells[c] for c in PANEL if c in cells]}
