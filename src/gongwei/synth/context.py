"""State shared by the builders of one synthetic region: random generator, window, units, labels."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gongwei.spec import reference as ref
from gongwei.synth import util
from gongwei.synth.config import SynthConfig
from gongwei.synth.org import Region
from gongwei.synth.people import People

DAY = np.timedelta64(1, "D")

# Prefixes of generated natural keys, per table.
PREFIX = {
    "enrollments": "ZA", "health_examinations": "TJ", "chronic_follow_ups": "MB", "smi_follow_ups": "JS",
    "tb_follow_ups": "JH", "newborn_visits": "XS", "child_checks": "ET", "prenatal_visits": "CQ",
    "postpartum_visits": "CH", "vaccinations": "JZ", "tcm_constitutions": "ZY", "child_tcm_guidance": "EZ",
    "health_education_activities": "JY", "infectious_disease_reports": "CR", "supervision_reports": "XG",
    "contracts": "QY", "vaccination_certificates": "JZZ", "consultations": "MZ",
    "emergency_event_reports": "TF",
}
VILLAGE_LEVEL = "village"
TOWNSHIP_LEVEL = "township"


@dataclass
class Ctx:
    rng: np.random.Generator
    cfg: SynthConfig
    seed: int
    region: Region
    people: People
    as_of: np.datetime64
    start: np.datetime64
    diligence: np.ndarray                   # per township
    parts: dict[str, list[dict[str, pa.Array]]] = field(default_factory=dict)
    labels: list[dict[str, pa.Array]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    ghost: np.ndarray | None = None          # persons who get a service after their record closed

    @property
    def years(self) -> list[int]:
        return list(range(int(str(self.start)[:4]), int(str(self.as_of)[:4]) + 1))

    @property
    def window_days(self) -> int:
        return int((self.as_of - self.start).astype(np.int64)) + 1

    def rate(self, key: str, person: np.ndarray) -> np.ndarray:
        """Completion probability of a service for each person: typical rate × their township's diligence."""
        return np.clip(ref.OBSERVED_RATES[key].value * self.diligence[self.people.township[person]], 0, 0.995)

    def numbers(self, table: str, n: int, width: int = 10) -> pa.Array:
        start = self.counters.get(table, 0) + 1
        self.counters[table] = start + n - 1
        return util.numbered(PREFIX[table], np.arange(start, start + n), width)

    def add(self, table: str, cols: dict[str, pa.Array]) -> None:
        self.parts.setdefault(table, []).append(cols)

    def label(self, problem: str, table: str, keys: pa.Array, related: pa.Array | str = "",
              detail: pa.Array | str = "") -> None:
        n = len(keys)
        if not n:
            return
        rel = pa.array([related] * n, pa.string()) if isinstance(related, str) else related
        det = pa.array([detail] * n, pa.string()) if isinstance(detail, str) else detail
        self.labels.append({"problem": pa.array([problem] * n, pa.string()), "table": pa.array([table] * n, pa.string()),
                            "natural_key": keys.cast(pa.string()), "related_key": rel.cast(pa.string()),
                            "detail": det.cast(pa.string())})

    def provider(self, person: np.ndarray, level: str) -> tuple[pa.Array, pa.Array]:
        """(org-unit code, staff code) serving each person at the village or township level."""
        r, p = self.region, self.people
        if level == VILLAGE_LEVEL:
            vill = p.village[person]
            starts, counts = r.village_doctor_start[vill], r.village_doctor_count[vill]
            idx = starts + np.floor(self.rng.random(len(person)) * counts).astype(np.int64)
            return util.pick(pa.array(r.village_code), vill), util.pick(pa.array(r.village_doctor_codes), idx)
        town = p.township[person]
        starts, counts = r.township_staff_start[town], r.township_staff_count[town]
        idx = starts + np.floor(self.rng.random(len(person)) * counts).astype(np.int64)
        return util.pick(pa.array(r.township_code), town), util.pick(pa.array(r.township_staff_codes), idx)

    def served(self, person: np.ndarray, dates: np.ndarray, *, ghosts: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Which candidate services exist: inside the window, after birth, before the record closed — except
        the first one after closing of each 'ghost' person (injected). Returns (keep, ghost_rows)."""
        p = self.people
        inside = (dates >= self.start) & (dates <= self.as_of) & (dates >= p.birth[person])
        end = p.end[person]
        closed = ~np.isnat(end) & (dates >= end)
        ghost_rows = np.zeros(len(person), dtype=bool)
        if ghosts and self.ghost is not None:
            cand = np.flatnonzero(inside & closed & self.ghost[person])
            if len(cand):
                order = cand[np.lexsort((dates[cand], person[cand]))]
                first = np.concatenate([[True], person[order][1:] != person[order][:-1]])
                ghost_rows[order[first]] = True
                self.ghost[person[order[first]]] = False  # one injected service per person
        return inside & (~closed | ghost_rows), ghost_rows

    def encounters(self, table: str, person: np.ndarray, dates: np.ndarray, level: str,
                   cols: dict[str, pa.Array | np.ndarray], enrollment: pa.Array | None = None,
                   ghost_rows: np.ndarray | None = None) -> pa.Array:
        """Add encounter rows (already filtered); returns their encounter numbers."""
        n = len(person)
        keys = self.numbers(table, n)
        unit, staff = self.provider(person, level)
        hours = self.rng.uniform(0.5, 10, n)  # entered 08:30–18:00 Beijing time = 00:30–10:00 UTC
        late = self.rng.random(n) < 0.05
        delay = np.where(late, self.rng.integers(1, 60, n), 0)
        entered = (dates + delay * DAY).astype("datetime64[us]") + (hours * 3.6e9).astype("timedelta64[us]")
        out = {"encounter_no": keys, "resident": self.people.record_no.take(pa.array(person)), "org_unit": unit,
               "provider": staff, "service_date": util.dates(dates), "entered_at": util.timestamps(entered),
               "is_void": util.bools(np.zeros(n, bool))}
        if enrollment is not None:
            out["enrollment"] = enrollment
        out.update({k: (val if isinstance(val, pa.Array | pa.ChunkedArray) else pa.array(val)) for k, val in cols.items()})
        self.add(table, out)
        if ghost_rows is not None and ghost_rows.any():
            gi = np.flatnonzero(ghost_rows)
            gp = person[gi]
            dead = ~np.isnat(self.people.death[gp])
            rec = self.people.record_no.take(pa.array(gp))
            closed_on = util.dates(self.people.end[gp]).cast(pa.string())
            detail = util.concat("服务日期", util.dates(dates[gi]).cast(pa.string()), "晚于结案日期", closed_on)
            sel = pa.array(dead)
            self.label("service_after_death", table, pc.filter(keys.take(pa.array(gi)), sel), pc.filter(rec, sel),
                       pc.filter(detail, sel))
            sel = pa.array(~dead)
            self.label("service_after_moveout", table, pc.filter(keys.take(pa.array(gi)), sel), pc.filter(rec, sel),
                       pc.filter(detail, sel))
        return keys
