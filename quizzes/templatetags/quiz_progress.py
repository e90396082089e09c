from django import template

from lessons.models import Course, Module
from quizzes import selectors
from quizzes.selectors import CourseProgress, ModuleStatus, ReadingPosition

register = template.Library()


@register.simple_tag
def module_status(progress: CourseProgress | None, module: Module | None) -> ModuleStatus | None:
    """``{% module_status progress module as status %}``: the module's row of the page's course progress."""
    if not isinstance(progress, CourseProgress) or module is None:
        return None
    return progress.status_for(module)


@register.simple_tag(takes_context=True)
def last_reading_position(context: template.Context, course: Course | None = None) -> ReadingPosition | None:
    """``{% last_reading_position course as position %}``: where the signed-in reader stopped (None otherwise).

    Only for pages rendered per reader: a page kept for several readers must never call it.
    """
    user = context.get("user")
    if user is None or not user.is_authenticated or not getattr(user, "pk", None):
        return None
    return selectors.last_reading_position(user=user, course=course)
