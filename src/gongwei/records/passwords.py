"""Password rules beyond Django's own validators (length, common passwords, all digits, like the user name)."""

from __future__ import annotations

import string

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError

CLASSES = (
    ("大写字母", set(string.ascii_uppercase)),
    ("小写字母", set(string.ascii_lowercase)),
    ("数字", set(string.digits)),
)


class CharacterClassesValidator:
    """At least ``min_classes`` of: upper-case letters, lower-case letters, digits, other characters.

    Graded protection of information systems (等级保护) asks for passwords of mixed character classes; three of
    four is the usual reading, and the number is a setting (``OPTIONS``) so a province can ask for four.
    """

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    @staticmethod
    def classes_in(password: str) -> int:
        chars = set(password)
        found = sum(1 for _, members in CLASSES if chars & members)
        others = chars - set().union(*(members for _, members in CLASSES))
        return found + (1 if others else 0)

    def validate(self, password: str, user=None) -> None:
        if self.classes_in(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return f"密码须至少包含大写字母、小写字母、数字、其他符号中的 {self.min_classes} 类。"


class ChineseMinimumLengthValidator(MinimumLengthValidator):
    """Django's length rule with its message in Chinese: Django's zh-Hans catalogue lacks this plural message, so
    a village doctor choosing a password would read it in English."""

    def validate(self, password: str, user=None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(self.get_help_text(), code="password_too_short")

    def get_help_text(self) -> str:
        return f"密码太短：至少需要 {self.min_length} 个字符。"
