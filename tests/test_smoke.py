import pytest

from gongwei.cli.main import build_parser


def test_every_subcommand_has_help(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert "migrate" in sub.choices
    for name, p in sub.choices.items():
        assert p.format_help().strip(), name


@pytest.mark.django_db
def test_database_is_usable():
    from gongwei.records.models import OrgUnit

    assert OrgUnit.objects.count() == 0
