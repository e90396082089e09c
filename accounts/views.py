from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from core.throttle import throttle

from . import services
from .forms import DeleteAccountForm, SignupForm


@throttle("signup")
def signup(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if request.method == "POST":
        form = SignupForm(request.POST)
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            services.send_verification_email(user=user)
            messages.info(request, f"Welcome! We sent a link to {user.email}: open it to confirm your address.")
            return redirect(next_url or "dashboard")
    else:
        form = SignupForm()
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


@method_decorator(throttle("password_reset"), name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, throttled per address and per email: it sends mail to whatever address is typed."""


@require_safe
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.verify_email(token=token)
    except services.InvalidVerificationLink:
        return render(request, "registration/verify_email_failed.html", status=400)
    messages.success(request, f"Thank you: {user.email} is confirmed.")
    return redirect("dashboard" if request.user.is_authenticated else "login")


@require_POST
@login_required
@throttle("verification_email")
def resend_verification(request: HttpRequest) -> HttpResponse:
    if not request.user.email_verified:
        services.send_verification_email(user=request.user)
        messages.info(request, f"We sent a new link to {request.user.email}.")
    return redirect("dashboard")


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        response = super().form_valid(form)
        services.notify_sign_in_details_changed(user=self.request.user, what="password")
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        services.notify_sign_in_details_changed(user=form.user, what="password")
        return response


@require_safe
@login_required
def export_data(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(services.export_account_data(user=request.user), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{request.user.username}-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.delete_account(user=user, revoke_certificates=form.cleaned_data["certificates"] == "revoke")
        messages.success(request, "Your account and its data were deleted.")
        return redirect("home")
    return render(request, "registration/delete_account.html", {"form": form},
                  status=400 if request.method == "POST" else 200)
