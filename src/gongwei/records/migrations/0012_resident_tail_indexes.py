"""Indexes for searches by the last digits of the identity number, phone or record number on PostgreSQL
(gongwei.records.searchindex); nothing on SQLite."""

from django.db import migrations

from gongwei.records.searchindex import TAIL_COLUMNS, tail_index


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in TAIL_COLUMNS:
            schema_editor.execute(tail_index(column))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in TAIL_COLUMNS:
            schema_editor.execute(f"DROP INDEX IF EXISTS resident_{column}_tail")


class Migration(migrations.Migration):
    dependencies = [("records", "0011_resident_name_grams")]
    operations = [migrations.RunPython(forwards, backwards)]
