"""Bulletins (通报): official documents generated from stored engine results (ADR 026, docs/bulletins.md).

``templates/`` holds each bulletin type as data (TOML); :mod:`.template` loads it, :mod:`.numbers` formats figures
as Chinese bulletins write them, :mod:`.narrative` turns figures into paragraphs, :mod:`.charts`, :mod:`.docx`,
:mod:`.xlsx` and :mod:`.pdf` write the files. The Django models keep a drafted or published bulletin frozen.
"""
