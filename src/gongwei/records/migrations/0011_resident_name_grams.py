"""The bigram index of residents' names on PostgreSQL (gongwei.records.searchindex); nothing on SQLite."""

from django.db import migrations

from gongwei.records.searchindex import GRAMS_FUNCTION, GRAMS_INDEX


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GRAMS_FUNCTION)
        schema_editor.execute(GRAMS_INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS resident_name_grams")
        schema_editor.execute("DROP FUNCTION IF EXISTS gongwei_name_grams(text)")


class Migration(migrations.Migration):
    dependencies = [("records", "0010_loadbatch_started_at")]
    operations = [migrations.RunPython(forwards, backwards)]
