from django import template

from ..forms import HolderNameForm
from ..progress import progress_for
from ..selectors import certificate_for
from ..services import normalize_holder_name

register = template.Library()


@register.inclusion_tag("certificates/_certificate_status.html", takes_context=True)
def dashboard_certificate(context: template.Context) -> dict:
    """The dashboard's certificate block for the course in context (``course``, and ``progress`` if the page
    computed it already): the certificate with its actions, the claim form, or when it will be issued."""
    user, course = context["user"], context.get("course")
    if course is None or not user.is_authenticated:
        return {"course": None}
    progress = context.get("progress") or progress_for(user=user, course=course)
    certificate = certificate_for(user=user, course=course)
    needs_name = not normalize_holder_name(user.full_name)
    auto_id = f"id_%s_{course.pk}"
    return {
        "course": course,
        "certificate": certificate,
        "complete": progress.is_complete,
        "needs_name": needs_name,
        "email_verified": user.email_verified,
        "user": user,
        "name_form": HolderNameForm(
            auto_id=auto_id, initial={"holder_name": certificate.holder_name if certificate else ""}
        ),
        "claim_form": HolderNameForm(auto_id=auto_id, required=needs_name),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def course_certificate(context: template.Context, course):
    """The signed-in reader's certificate for ``course``, or None (for pages outside the dashboard)."""
    user = context["user"]
    return certificate_for(user=user, course=course) if user.is_authenticated else None
