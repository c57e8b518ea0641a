"""Identity problems and duplicate records injected into the residents table, with their labels."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gongwei.records import identity
from gongwei.synth import names, util
from gongwei.synth.context import DAY, Ctx

_CHECK = np.array(list("10X98765432"))


def _weighted_sample(rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct candidates, chosen with probability proportional to weight (Efraimidis–Spirakis keys)."""
    k = min(k, len(candidates))
    if k <= 0:
        return np.array([], dtype=np.int64)
    keys = np.log(rng.random(len(candidates))) / weights
    return np.sort(candidates[np.argpartition(-keys, k - 1)[:k]])


def apply(ctx: Ctx, residents: pa.Table, health_records: pa.Table) -> tuple[pa.Table, pa.Table]:
    p, rng, cfg = ctx.people, ctx.rng, ctx.cfg
    n = p.n
    ids = p.id_number.astype("<U18").copy()
    birth = p.birth
    pool = rng.permutation(n)
    active = np.isnat(p.end)
    # disjoint sets: duplicate sources, then each identity problem
    k_dup = int(round(cfg.duplicate_share * n))
    dup_src = np.sort(pool[active[pool]][:k_dup])
    used = np.zeros(n, bool)
    used[dup_src] = True
    rest = np.flatnonzero(~used)
    weights = np.where(p.county[rest] == 0, cfg.id_empty_hotspot_factor, 1.0)
    empty = _weighted_sample(rng, rest, weights, int(round(cfg.id_empty_share * n)))
    used[empty] = True
    rest = rng.permutation(np.flatnonzero(~used))
    k1, k2, k3 = (int(round(s * n)) for s in (cfg.id_bad_checksum_share, cfg.id_malformed_share,
                                                 cfg.id_birth_mismatch_share))
    bad_check, malformed, mismatch = np.sort(rest[:k1]), np.sort(rest[k1:k1 + k2]), np.sort(rest[k1 + k2:k1 + k2 + k3])

    original = ids.copy()
    ids[empty] = ""
    last = ids[bad_check].astype("<U18")
    last_char = np.frombuffer(last.astype("S18").tobytes(), dtype="S1")[17::18].astype("<U1")
    cur = (_CHECK[None, :] == last_char[:, None]).argmax(axis=1)
    new = _CHECK[(cur + rng.integers(1, 11, len(cur))) % 11]
    ids[bad_check] = np.char.add(original[bad_check].astype("<U17"), new)
    trunc = rng.random(len(malformed)) < 0.5
    ids[malformed] = np.where(trunc, original[malformed].astype("<U17"),
                              np.char.add(np.char.add(original[malformed].astype("<U10"), "O"),
                                          _slice(original[malformed], 11, 18)))
    # birth-date mismatch: the number encodes another birth date than the one on the record
    shift = rng.integers(1, 400, len(mismatch)) * np.where(rng.random(len(mismatch)) < 0.5, -1, 1)
    id_birth = birth[mismatch] + shift * DAY
    id_birth = np.where(id_birth >= ctx.as_of, birth[mismatch] - np.abs(shift) * DAY, id_birth)
    region6 = np.frombuffer(original[mismatch].astype("S18").tobytes(), dtype="S6")[::3].astype("<U6") \
        if len(mismatch) else np.array([], "<U6")
    seq = (np.frombuffer(original[mismatch].astype("S18").tobytes(), dtype=np.uint8).reshape(-1, 18)[:, 14:17]
           .astype(np.int64) - 48) @ np.array([100, 10, 1]) if len(mismatch) else np.array([], np.int64)
    remade = identity.make_number(region6, id_birth, seq) if len(mismatch) else np.array([], "<U18")
    clash = np.isin(remade, ids)
    mismatch, remade = mismatch[~clash], remade[~clash]
    ids[mismatch] = remade

    rec = p.record_no
    ctx.label("id_empty", "residents", rec.take(pa.array(empty)), "", "身份证号为空")
    ctx.label("id_bad_checksum", "residents", rec.take(pa.array(bad_check)), "",
              util.concat("校验位错误：", util.strs(ids[bad_check])))
    ctx.label("id_malformed", "residents", rec.take(pa.array(malformed)), "",
              util.concat("格式错误：", util.strs(ids[malformed])))
    ctx.label("id_birth_mismatch", "residents", rec.take(pa.array(mismatch)), "",
              util.concat("身份证号出生日期与档案出生日期", util.dates(birth[mismatch]).cast(pa.string()), "不符"))
    residents = residents.set_column(residents.schema.get_field_index("id_number"), "id_number", util.strs(ids))

    # duplicate records: the same person registered again (same or a neighbouring village)
    k = len(dup_src)
    if k:
        r = ctx.region
        v_src = p.village[dup_src]
        t_src = p.township[dup_src]
        move = rng.random(k) < 0.3
        other = util.pick_in_group(rng, t_src, r.village_township, len(r.township_code))
        v_new = np.where(move & (other >= 0), other, v_src)
        order = np.argsort(v_new, kind="stable")
        rank = np.empty(k, np.int64)
        rank[order] = util.rank_in_group(v_new[order], len(r.village_code))
        new_rec = util.concat(util.pick(pa.array(r.village_code), v_new), pc.utf8_lpad(util.strs(90_000 + rank + 1), 5, "0"))
        without_id = rng.random(k) < cfg.duplicate_without_id_share
        variant = rng.integers(0, 3, k)
        src_rows = residents.take(pa.array(dup_src))
        nm = src_rows.column("name").combine_chunks()
        spaced = util.concat(pc.utf8_slice_codeunits(nm, 0, 1), " ", pc.utf8_slice_codeunits(nm, 1, 10))
        swapped = util.concat(pc.utf8_slice_codeunits(nm, 0, -1),
                              util.pick(names.VARIANT_CHARS, rng.integers(0, len(names.VARIANT_CHARS), k)))
        swapped = pc.if_else(pc.equal(swapped, nm), util.concat(nm, "子"), swapped)
        new_name = pc.if_else(pa.array(variant == 1), spaced, pc.if_else(pa.array(variant == 2), swapped, nm))
        src_ids = src_rows.column("id_number").combine_chunks()
        doc_idx = r.village_doctor_start[v_new] + np.floor(rng.random(k) * r.village_doctor_count[v_new]).astype(np.int64)
        # phones of the second registration come from their own stream, so the rest of the region is the
        # same as before this knob existed
        phone_rng = np.random.Generator(np.random.PCG64([ctx.seed, 0x5048]))
        u = phone_rng.random(k)
        other_phone = util.concat("1", util.strs(phone_rng.integers(3, 10, k)),
                                  pc.utf8_lpad(util.strs(phone_rng.integers(0, 10**9, k)), 9, "0"))
        blank = u < cfg.duplicate_phone_blank_share
        changed = ~blank & (u < cfg.duplicate_phone_blank_share + cfg.duplicate_phone_changed_share)
        src_phone = src_rows.column("phone").combine_chunks()
        new_phone = pc.if_else(pa.array(blank), pa.scalar(""), pc.if_else(pa.array(changed), other_phone, src_phone))
        copy = src_rows
        for col, arr in (("record_no", new_rec), ("name", new_name),
                         ("id_number", pc.if_else(pa.array(without_id), pa.scalar(""), src_ids)),
                         ("managing_unit", util.pick(pa.array(r.village_code), v_new)), ("phone", new_phone),
                         ("responsible_doctor", util.pick(pa.array(r.village_doctor_codes), doc_idx))):
            copy = copy.set_column(copy.schema.get_field_index(col), col, arr)
        residents = pa.concat_tables([residents, copy.cast(residents.schema)])
        hr = health_records.take(pa.array(dup_src))
        hr = hr.set_column(hr.schema.get_field_index("resident"), "resident", new_rec)
        hr = hr.set_column(hr.schema.get_field_index("created_by_unit"), "created_by_unit",
                           util.pick(pa.array(r.township_code), r.village_township[v_new]))
        health_records = pa.concat_tables([health_records, hr.cast(health_records.schema)])
        variant_text = pa.array(["姓名相同", "姓名中含空格", "姓名一字之差"]).take(pa.array(variant))
        src_rec = rec.take(pa.array(dup_src))
        for flag, code, what in ((~without_id, "dup_same_id", "同一人重复建档（身份证号相同，"),
                                 (without_id, "dup_no_id", "同一人重复建档（无身份证号，")):
            sel = pa.array(flag)
            ctx.label(code, "residents", pc.filter(new_rec, sel), pc.filter(src_rec, sel),
                      util.concat(what, pc.filter(variant_text, sel), "）"))
    return residents, health_records


def _slice(values: np.ndarray, a: int, b: int) -> np.ndarray:
    """Characters a..b of fixed-width ASCII strings, without a Python loop."""
    raw = np.frombuffer(values.astype("S18").tobytes(), dtype=np.uint8).reshape(-1, 18)[:, a:b]
    return np.frombuffer(np.ascontiguousarray(raw).tobytes(), dtype=f"S{b - a}").astype(f"<U{b - a}")
