"""What a certificate says, independent of how it is drawn (PDF, share image) or stored."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from .credential_ids import human_credential_id

if TYPE_CHECKING:
    from .models import Certificate

_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                 9: "nine", 10: "ten", 11: "eleven", 12: "twelve"}


@dataclass(frozen=True)
class CertificateContent:
    credential_id: str
    holder_name: str
    course_title: str
    issuer_name: str
    issued_at: datetime
    verification_url: str
    module_results: list[dict] = field(default_factory=list)
    reissued_at: datetime | None = None
    revoked: bool = False

    @classmethod
    def of(cls, certificate: Certificate) -> CertificateContent:
        return cls(
            credential_id=certificate.credential_id,
            holder_name=certificate.holder_name,
            course_title=certificate.course_title,
            issuer_name=certificate.issuer_name,
            issued_at=certificate.issued_at,
            verification_url=certificate.verification_url,
            module_results=list(certificate.module_results),
            reissued_at=certificate.reissued_at,
            revoked=certificate.is_revoked,
        )

    @property
    def human_id(self) -> str:
        return human_credential_id(self.credential_id)

    @property
    def module_count_words(self) -> str:
        count = len(self.module_results)
        return _NUMBER_WORDS.get(count, str(count))

    @property
    def average_score(self) -> int | None:
        scores = [r["score"] for r in self.module_results if r.get("score") is not None]
        return round(sum(scores) / len(scores)) if scores else None


def long_date(moment: datetime) -> str:
    """``25 November 2026`` in the site's time zone; spelled out so no reader confuses day and month."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return f"{local.day} {local:%B %Y}"
