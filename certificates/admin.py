"""Admins see every certificate with its history and revoke or restore one, always with a reason."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from . import services
from .models import Certificate, CertificateEvent


class CertificateEventInline(admin.TabularInline):
    model = CertificateEvent
    extra = 0
    can_delete = False
    # The full SHA-256 and file name made the history 1,700 px wide at 1366 px: a short hash, the full one on hover.
    fields = ("occurred_at", "kind", "revision", "holder_name", "pdf_hash", "reason", "actor")
    readonly_fields = fields
    ordering = ("occurred_at", "id")

    @admin.display(description="PDF SHA-256")
    def pdf_hash(self, event: CertificateEvent) -> str:
        if not event.pdf_sha256:
            return "-"
        return format_html('<code title="{}">{}…</code>', event.pdf_sha256, event.pdf_sha256[:12])

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class CertificateAdminForm(forms.ModelForm):
    status_change = forms.ChoiceField(
        label="Change status",
        required=False,
        choices=[("", "Leave as it is"), ("revoke", "Revoke"), ("restore", "Restore"),
                 ("approve_name", "Approve the requested name (re-issue)")],
        help_text="Every public view (page, PDF, Open Badges credential, share image) reflects it at once.",
    )
    status_reason = forms.CharField(
        label="Reason", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to revoke or restore. A revocation reason is shown publicly.",
    )

    class Meta:
        model = Certificate
        fields: list[str] = []

    def clean(self) -> dict:
        data = super().clean()
        change, reason = data.get("status_change"), (data.get("status_reason") or "").strip()
        if change in ("revoke", "restore") and not reason:
            self.add_error("status_reason", "Give a reason for the change.")
        if change == "approve_name" and not self.instance.requested_holder_name:
            self.add_error("status_change", "No name change is waiting for approval.")
        if change == "revoke" and self.instance.is_revoked:
            self.add_error("status_change", "This certificate is already revoked.")
        if change == "restore" and not self.instance.is_revoked:
            self.add_error("status_change", "This certificate is not revoked.")
        return data


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    form = CertificateAdminForm
    # Status second: at 1366 px the last columns of a wide list sat under the filter sidebar.
    list_display = ("human_id", "status", "holder_name", "course_title", "issued_at")
    list_filter = ("course", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("credential_id", "holder_name", "user__username", "user__email")
    readonly_fields = (
        "public_page", "credential_id", "user", "course", "holder_name", "course_title", "issuer_name",
        "module_results_table", "issued_at", "reissued_at", "revision", "pdf", "pdf_sha256", "share_image",
        "revoked_at", "revocation_reason", "requested_holder_name",
    )
    fieldsets = (
        (None, {"fields": ("public_page", "credential_id", "user", "course", "holder_name")}),
        ("As issued", {"fields": ("course_title", "issuer_name", "module_results_table", "issued_at", "reissued_at",
                                  "revision", "pdf", "pdf_sha256", "share_image")}),
        ("Status", {"fields": ("revoked_at", "revocation_reason", "requested_holder_name", "status_change",
                               "status_reason")}),
    )
    inlines = [CertificateEventInline]
    date_hierarchy = "issued_at"

    @admin.display(description="Status")
    def status(self, certificate: Certificate) -> str:
        return f"Revoked {certificate.revoked_at:%Y-%m-%d}" if certificate.is_revoked else "Valid"

    @admin.display(description="Module results")
    def module_results_table(self, certificate: Certificate) -> str:
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{} %</td><td>{}</td></tr>",
            (
                (r.get("order", ""), r.get("title", ""), r.get("score", ""),
                 f"{r['pass_mark']} %" if r.get("pass_mark") is not None else "-")
                for r in certificate.module_results
            ),
        )
        return format_html(
            "<table><thead><tr><th>Module</th><th>Title</th><th>Best score</th><th>Pass mark</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Public page")
    def public_page(self, certificate: Certificate) -> str:
        return format_html('<a href="{}">{}</a>', certificate.get_absolute_url(), certificate.verification_url)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # certificates are issued by completing the course, never typed in

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a verifier may hold a copy: revoke (with a public reason), never make it vanish

    def save_model(self, request: HttpRequest, obj: Certificate, form: CertificateAdminForm, change: bool) -> None:
        change_to = form.cleaned_data.get("status_change")
        reason = form.cleaned_data.get("status_reason", "")
        if change_to == "revoke":
            services.revoke_certificate(certificate=obj, reason=reason, actor=request.user)
            messages.warning(request, f"Certificate {obj.human_id} revoked.")
        elif change_to == "restore":
            services.restore_certificate(certificate=obj, reason=reason, actor=request.user)
            messages.success(request, f"Certificate {obj.human_id} restored.")
        elif change_to == "approve_name":
            updated = services.approve_requested_name(certificate=obj, staff=request.user)
            messages.success(request, f"Certificate {obj.human_id} re-issued to {updated.holder_name}.")
