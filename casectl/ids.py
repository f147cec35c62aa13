"""Ids people read out on the phone: case ids, RMA ids, event ids.

Case ids are `YYMMDD-XXXXX`: the opening date, then five random Crockford base32
characters (no I, L, O or U; 25 bits). They need no coordination between clones:
two clones that have not synced would have to open cases on the same day with the
same 1-in-33-million suffix to collide, and within one repository a new id is
created with `link()`, which fails rather than overwrite. The date part keeps ids
sortable and tells where a closed case's file lives.
"""

from __future__ import annotations

import os
import re
from datetime import datetime

from casectl.errors import CasectlError
from casectl.i18n import _

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CASE_ID = re.compile(rf"\d{{6}}-[{ALPHABET}]{{5}}")
_SPOKEN = str.maketrans("OIL", "011")  # what a caller may say for 0 and 1


def random_code(length: int) -> str:
    number = int.from_bytes(os.urandom(8), "big")
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(length))


def new_case_id(opened: datetime) -> str:
    return f"{opened:%y%m%d}-{random_code(5)}"


def normalize_case_id(text: str) -> str:
    """The canonical form of a case id as typed or read out; refuses anything else."""
    case_id = text.strip().upper().translate(_SPOKEN)
    if not CASE_ID.fullmatch(case_id):
        raise CasectlError(
            _("{text!r} is not a case id (they look like 261126-K7Q3M)").format(text=text)
        )
    return case_id
