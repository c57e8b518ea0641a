"""PDF through LibreOffice headless (``soffice --headless --convert-to pdf``), which also proves the DOCX opens.

LibreOffice is a system package (Debian ``libreoffice-writer-nogui``, installed for tests by ``make install``);
without it :func:`available` is False and the command line writes the DOCX and XLSX only.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from gongwei.errors import UserError

PACKAGE = "libreoffice-writer-nogui"


class PdfError(UserError):
    pass


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def available() -> bool:
    return soffice() is not None


def convert(docx: Path, out: Path | None = None, *, timeout: int = 180) -> Path:
    """``docx`` → PDF beside it (or at ``out``); a private LibreOffice profile so parallel runs never collide."""
    exe = soffice()
    if exe is None:
        raise PdfError(f"未安装 LibreOffice，无法生成 PDF：请安装 {PACKAGE}（apt-get install --no-install-recommends {PACKAGE}）")
    docx = Path(docx).absolute()
    target = Path(out or docx.with_suffix(".pdf")).absolute()
    with tempfile.TemporaryDirectory(prefix="gongwei-lo-") as tmp:
        profile = Path(tmp, "profile").as_uri()
        done = subprocess.run([exe, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to",
                               "pdf", "--outdir", tmp, str(docx)], capture_output=True, text=True, timeout=timeout,
                              check=False)
        made = Path(tmp, docx.with_suffix(".pdf").name)
        if done.returncode != 0 or not made.is_file():
            raise PdfError(f"LibreOffice 未能把 {docx.name} 转为 PDF（退出码 {done.returncode}）：{done.stderr.strip()[:300]}")
        shutil.move(str(made), target)
    from gongwei.files import make_private

    return make_private(target)
