from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("progress/position/", views.reading_position, name="reading_position"),
    path("courses/<slug:course_slug>/<slug:lesson_slug>/quiz/", views.quiz, name="quiz"),
    path(
        "courses/<slug:course_slug>/<slug:lesson_slug>/quiz/attempts/<int:attempt_id>/",
        views.quiz_result,
        name="quiz_result",
    ),
]
