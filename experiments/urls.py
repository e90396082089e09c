from django.urls import path

from . import views

app_name = "experiments"

urlpatterns = [
    path("", views.experiment_list, name="experiment_list"),
    path("runs/", views.run_create, name="run_create"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
]
