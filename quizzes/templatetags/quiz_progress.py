from django import template

from lessons.models import Module
from quizzes.selectors import CourseProgress, ModuleStatus

register = template.Library()


@register.simple_tag
def module_status(progress: CourseProgress | None, module: Module | None) -> ModuleStatus | None:
    """``{% module_status progress module as status %}``: the module's row of the page's course progress."""
    if not isinstance(progress, CourseProgress) or module is None:
        return None
    return progress.status_for(module)
