"""Certificate PDF and share-image generation times, measured in-process with the product's own functions.

Run by run_all.py as ``python -m perf.certificate_timing`` with the bench environment, after perf.prepare
issued the graduates' certificates. Prints one JSON object. Budgets: PDF under 100 ms (median), share PNG
under 100 ms. Whether each is served from storage afterwards is checked over HTTP by run_all.
"""
from __future__ import annotations

import json
import statistics
import time

import django

RUNS = 15


def _timed_ms(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    value = function(*args)
    return (time.perf_counter() - started) * 1000, value


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "runs": len(samples),
        "median_ms": round(statistics.median(samples), 2),
        "min_ms": round(ordered[0], 2),
        "max_ms": round(ordered[-1], 2),
    }


def main() -> None:
    django.setup()
    from django.utils import timezone

    from certificates.content import CertificateContent
    from certificates.models import Certificate
    from certificates.pdf import render_certificate_pdf
    from certificates.services import issue_certificate
    from certificates.share_image import render_share_image
    from lessons.models import Course
    from quizzes.models import ModuleProgress

    from .prepare import create_users

    certificates = list(Certificate.objects.order_by("pk")[:RUNS])
    if not certificates:
        raise SystemExit("no certificates: run perf.prepare first")
    contents = [CertificateContent.of(certificate) for certificate in certificates]

    pdf_cold_ms, pdf = _timed_ms(render_certificate_pdf, contents[0])
    pdf_ms = [_timed_ms(render_certificate_pdf, contents[i % len(contents)])[0] for i in range(RUNS)]
    png_cold_ms, png = _timed_ms(render_share_image, contents[0])
    png_ms = [_timed_ms(render_share_image, contents[i % len(contents)])[0] for i in range(RUNS)]

    # The whole issue path as a course completion runs it: progress read, PDF, file storage, rows.
    course = Course.objects.get(slug="transformers-architecture")
    modules = list(course.modules.filter(published=True))
    now = timezone.now()
    users = create_users("issue-timing", 5)
    ModuleProgress.objects.bulk_create(
        ModuleProgress(user=user, module=module, read_at=now, completed_at=now, attempts=1, best_score=5,
                       best_total=5)
        for user in users for module in modules
    )
    issue_ms = [_timed_ms(lambda u=user: issue_certificate(user=u, course=course))[0] for user in users]

    print(json.dumps({
        "pdf": {**_summary(pdf_ms), "cold_ms": round(pdf_cold_ms, 2), "bytes": len(pdf)},
        "png": {**_summary(png_ms), "cold_ms": round(png_cold_ms, 2), "bytes": len(png)},
        "issue": _summary(issue_ms),
    }))


if __name__ == "__main__":
    main()
