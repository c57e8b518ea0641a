"""A tiny hand-built region in the exchange layout, for tests that need real rows."""

from __future__ import annotations

import pyarrow as pa

from gongwei.records import entry


def t(**cols: list) -> pa.Table:
    return pa.table({k: pa.array([None if x is None else str(x) for x in v], pa.string()) for k, v in cols.items()})


ORG_UNITS = t(
    code=["360000000000", "360400000000", "360426000000", "360426100000", "360426100201", "360426100202",
          "360426200000", "360426200201"],
    name=["江西省", "九江市", "德安县", "蒲亭镇卫生院", "城东村卫生室", "城西村卫生室", "林泉乡卫生院", "林泉村卫生室"],
    level=["province", "city", "county", "township", "village", "village", "township", "village"],
    kind=["health_bureau", "health_bureau", "health_bureau", "township_hc", "village_clinic", "village_clinic",
          "township_hc", "village_clinic"],
    parent=["", "360000000000", "360400000000", "360426000000", "360426100000", "360426100000", "360426000000",
            "360426200000"],
)

RESIDENTS = t(
    record_no=["R001", "R002", "R003", "R004"],
    name=["张三", "李四", "王五", "赵六"],
    sex=["1", "2", "1", "2"],
    birth_date=["1991-01-01", "1950-03-04", "1958-07-15", "2001-12-31"],
    id_number=["360426199101010071", "", "360426580715003", "36042620011231002x"],
    managing_unit=["360426100201", "360426100201", "360426100202", "360426200201"],
    residence_type=["1", "1", "2", "1"],
)


def load_tiny_region() -> entry.SubmitResult:
    return entry.submit({"org_units": ORG_UNITS, "residents": RESIDENTS}, actor="test", kind="test")
