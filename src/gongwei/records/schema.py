"""The exchange schema: one table per writable model, derived from the models themselves.

The same description drives the import/export CSV layout (docs/import-format.md), the entry layer's
validation and the bulk writer, so the three can never disagree. Reference columns hold the
*natural key* of the referenced row (an org-unit code, a record number...), never a database id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from django.db import models

from gongwei.records import models as m
from gongwei.spec import constitution
from gongwei.spec import entry as entry_rules
from gongwei.spec import vocab as v

# Loading order (references point backwards) and natural keys.
TABLES: tuple[tuple[str, type[models.Model], tuple[str, ...]], ...] = (
    ("org_units", m.OrgUnit, ("code",)),
    ("staff", m.Staff, ("code",)),
    ("teams", m.Team, ("code",)),
    ("team_members", m.TeamMembership, ("team", "staff")),
    ("households", m.Household, ("household_no",)),
    ("residents", m.Resident, ("record_no",)),
    ("health_records", m.HealthRecord, ("resident",)),
    ("enrollments", m.Enrollment, ("enrollment_no",)),
    ("health_examinations", m.HealthExamination, ("encounter_no",)),
    ("chronic_follow_ups", m.ChronicFollowUp, ("encounter_no",)),
    ("smi_follow_ups", m.SmiFollowUp, ("encounter_no",)),
    ("tb_follow_ups", m.TbFollowUp, ("encounter_no",)),
    ("newborn_visits", m.NewbornVisit, ("encounter_no",)),
    ("child_checks", m.ChildCheck, ("encounter_no",)),
    ("prenatal_visits", m.PrenatalVisit, ("encounter_no",)),
    ("postpartum_visits", m.PostpartumVisit, ("encounter_no",)),
    ("vaccinations", m.Vaccination, ("encounter_no",)),
    ("tcm_constitutions", m.TcmConstitution, ("encounter_no",)),
    ("child_tcm_guidance", m.ChildTcmGuidance, ("encounter_no",)),
    ("vaccination_certificates", m.VaccinationCertificate, ("encounter_no",)),
    ("consultations", m.Consultation, ("encounter_no",)),
    ("health_education_activities", m.HealthEducationActivity, ("activity_no",)),
    ("infectious_disease_reports", m.InfectiousDiseaseReport, ("report_no",)),
    ("emergency_event_reports", m.EmergencyEventReport, ("report_no",)),
    ("supervision_reports", m.SupervisionReport, ("report_no",)),
    ("contracts", m.Contract, ("contract_no",)),
    ("contract_services", m.ContractService, ("service_no",)),
    ("population_bases", m.PopulationBase, ("org_unit", "year", "group")),
)

# The column naming the org unit a row belongs to, for the per-unit tallies of received and rejected rows
# (LoadTally, 上传数据有效率); tables not listed use ``org_unit``, and tables without one count as unattributed.
UNIT_COLUMN: dict[str, str] = {"org_units": "code", "residents": "managing_unit", "health_records": "created_by_unit"}

# Columns the system derives or owns: never read from a file.
_DERIVED = {"id", "path", "batch", "created_at", "updated_at", "user", "id_status", "id_number_raw", "version"}

# Vocabulary of CharFields whose values are codes but whose model field has no ``choices``.
_EXTRA_VOCAB: dict[str, type[v.Vocab]] = {"enrollments.diagnosis": v.SmiDiagnosis}
# Columns holding several codes of a vocabulary, comma-separated (each code is checked).
_MULTI_VOCAB: dict[str, frozenset[str]] = {
    "tcm_constitutions.recorded_result": frozenset(c.value for c in constitution.Constitution)}


@dataclass(frozen=True)
class Column:
    name: str  # column name in files == model field name
    kind: str  # str | int | dec | date | datetime | bool | ref
    required: bool
    max_length: int | None = None
    vocab: frozenset[str] | None = None
    multi: bool = False  # several codes of ``vocab``, comma-separated
    bounds: tuple[float, float] | None = None
    ref_table: str | None = None
    label: str = ""

    @property
    def attname(self) -> str:
        return f"{self.name}_id" if self.kind == "ref" else self.name


@dataclass(frozen=True)
class Table:
    name: str
    model: type[models.Model]
    natural_key: tuple[str, ...]
    columns: tuple[Column, ...] = field(default=())
    label: str = ""

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name}.{name}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _kind(f: models.Field) -> str:
    if isinstance(f, models.ForeignKey):
        return "ref"
    if isinstance(f, models.BooleanField):
        return "bool"
    if isinstance(f, models.DateTimeField):
        return "datetime"
    if isinstance(f, models.DateField):
        return "date"
    if isinstance(f, models.DecimalField):
        return "dec"
    if isinstance(f, models.IntegerField):
        return "int"
    return "str"


@cache
def tables() -> dict[str, Table]:
    model_to_table = {model: name for name, model, _ in TABLES}
    out: dict[str, Table] = {}
    for name, model, natural_key in TABLES:
        cols = []
        for f in model._meta.concrete_fields:
            if f.name in _DERIVED or f.auto_created:
                continue
            kind = _kind(f)
            has_default = f.has_default() and kind != "ref"
            required = not (f.null or f.blank or has_default or kind == "bool")
            vocab = frozenset(c for c, _ in f.choices) if f.choices else None
            if f"{name}.{f.name}" in _EXTRA_VOCAB:
                vocab = _EXTRA_VOCAB[f"{name}.{f.name}"].codes()
            multi = f"{name}.{f.name}" in _MULTI_VOCAB
            if multi:
                vocab = _MULTI_VOCAB[f"{name}.{f.name}"]
            bounds = entry_rules.HARD_BOUNDS.get(f"{name}.{f.name}") or entry_rules.HARD_BOUNDS.get(f.name)
            ref = model_to_table[f.related_model] if kind == "ref" else None
            cols.append(Column(
                name=f.name, kind=kind, required=required,
                max_length=getattr(f, "max_length", None) if kind == "str" else None,
                vocab=vocab, multi=multi, bounds=bounds if kind in ("int", "dec") else None, ref_table=ref,
                label=str(f.verbose_name),
            ))
        out[name] = Table(name, model, natural_key, tuple(cols), str(model._meta.verbose_name))
    return out


def table_for_model(model: type[models.Model]) -> Table:
    for t in tables().values():
        if t.model is model:
            return t
    raise KeyError(model.__name__)
