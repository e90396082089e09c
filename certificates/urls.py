from django.urls import path, register_converter

from . import views
from .converters import CredentialIdConverter

register_converter(CredentialIdConverter, "credential")

app_name = "certificates"

urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("revocations.json", views.revocations, name="revocations"),
    path("claim/<slug:course_slug>/", views.claim, name="claim"),
    path("<credential:credential_id>/", views.verify, name="verify"),
    path("<credential:credential_id>/name/", views.change_name, name="change_name"),
    path("<credential:credential_id>.pdf", views.certificate_pdf, name="pdf"),
    path("<credential:credential_id>.json", views.credential_json, name="credential_json"),
    path("<credential:credential_id>.jwt", views.credential_jwt, name="credential_jwt"),
    path("<credential:credential_id>.png", views.share_image, name="share_image"),
]
